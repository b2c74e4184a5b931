// Keyboard movement and click-to-move, without stealing keys from the page.
//
//   const keys = new KeyboardInput(window);
//   keys.axes() -> {forward, strafe, turn} each in -1..1
//   onFloorClick(canvas, (clientX, clientY) => ...)  (a click, not a drag)
//
// Keys are physical (event.code), so W/A/S/D sit in the same place on every
// layout. Movement keys are ignored while focus is in a text field, a select,
// a radio group or anything marked data-own-keys (e.g. the scrollable chat
// log), so typing and native keyboard use of controls keep working.
//
// Other sources of the same intent (the touch joystick, src/touch.js) plug in
// with addAxesSource(fn): fn() -> {forward, strafe, turn} (analog, -1..1) or
// null; KeyboardInput.axes() adds them to the keys, so every source drives the
// one movement path (LocalAvatar.advance).

const FORWARD = new Set(['KeyW', 'ArrowUp']);
const BACK = new Set(['KeyS', 'ArrowDown']);
const LEFT = new Set(['KeyA', 'ArrowLeft']);
const RIGHT = new Set(['KeyD', 'ArrowRight']);
const STRAFE_LEFT = new Set(['KeyQ']);
const STRAFE_RIGHT = new Set(['KeyE']);
const ALL = new Set([...FORWARD, ...BACK, ...LEFT, ...RIGHT, ...STRAFE_LEFT, ...STRAFE_RIGHT]);

/** Does this element want the keys for itself (typing, choosing, scrolling)? */
export function ownsKeys(el) {
  if (!el || el === globalThis.document?.body || !el.closest) return false;
  if (el.isContentEditable) return true;
  if (el.closest('[data-own-keys]')) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return true; // text, radio (arrows change choice), color, ...
  return Boolean(el.closest('[role=listbox],[role=radiogroup],[role=menu],[role=slider],[role=tablist]'));
}

const sources = new Set();

/** Add a source of movement intent; returns a function that removes it. */
export function addAxesSource(fn) {
  sources.add(fn);
  return () => sources.delete(fn);
}

const clamp1 = (v) => Math.max(-1, Math.min(1, v));

export class KeyboardInput {
  constructor(target = globalThis.window) {
    this.down = new Set();
    this.enabled = true;
    target.addEventListener('keydown', (e) => this.onKey(e, true));
    target.addEventListener('keyup', (e) => this.onKey(e, false));
    // A key released while the window had no focus never sends keyup.
    target.addEventListener('blur', () => this.down.clear());
    globalThis.document?.addEventListener('visibilitychange', () => this.down.clear());
  }

  onKey(e, pressed) {
    if (!ALL.has(e.code)) return;
    if (!pressed) {
      this.down.delete(e.code);
      return;
    }
    if (!this.enabled || e.ctrlKey || e.altKey || e.metaKey || ownsKeys(e.target)) return;
    this.down.add(e.code);
    e.preventDefault(); // arrows would scroll the page
  }

  has(set) {
    for (const code of set) if (this.down.has(code)) return true;
    return false;
  }

  /** Current intent: forward (+1 ahead), strafe (+1 right), turn (+1 left, counter-clockwise). */
  axes() {
    const v = (plus, minus) => (this.has(plus) ? 1 : 0) - (this.has(minus) ? 1 : 0);
    const a = { forward: v(FORWARD, BACK), strafe: v(STRAFE_RIGHT, STRAFE_LEFT), turn: v(LEFT, RIGHT) };
    for (const source of sources) {
      const s = source();
      if (!s) continue;
      a.forward = clamp1(a.forward + (s.forward || 0));
      a.strafe = clamp1(a.strafe + (s.strafe || 0));
      a.turn = clamp1(a.turn + (s.turn || 0));
    }
    return a;
  }

  active() {
    return this.down.size > 0;
  }

  clear() {
    this.down.clear();
  }
}

/** Call `fn(clientX, clientY)` on a primary-button click on `el` that was not a drag. */
export function onFloorClick(el, fn) {
  let start = null;
  el.addEventListener('pointerdown', (e) => {
    if (e.button === 0) start = { x: e.clientX, y: e.clientY };
  });
  el.addEventListener('pointerup', (e) => {
    if (!start || e.button !== 0) return;
    const moved = Math.hypot(e.clientX - start.x, e.clientY - start.y);
    start = null;
    if (moved < 6) fn(e.clientX, e.clientY);
  });
}

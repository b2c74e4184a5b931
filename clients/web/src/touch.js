// Touch controls for the hall view: a joystick to walk and a drag to look.
//
//   const touch = installTouchControls({ wrap, canvas, turnBy, onChange });
//   touch.axes()    -> {forward, strafe, turn} | null   (an addAxesSource source)
//   touch.enabled   -> a touch device?
//   touch.setActive(inHall)  the joystick shows only while in the hall
//
// The joystick (nipplejs, static mode) sits in the view's lower left corner;
// its push is analog: forward/back and sideways, the walking speed scaled by
// how far the stick is pushed (LocalAvatar.advance). It feeds the same path as
// the keys, through input.js addAxesSource, so the server sees one kind of move.
// A drag on the canvas outside the joystick turns the avatar (turnBy); a tap
// stays a tap (input.js onFloorClick walks there). Only touch and pen pointers
// look, so a mouse keeps its click-to-walk exactly as before.
//
// Shown on touch devices: (pointer: coarse), or (any-pointer: coarse) with touch
// points. Everything the joystick does the keys do too (WCAG 2.1.1), so the zone
// is hidden from assistive technology.

// nipplejs is loaded on touch devices only (and it needs a window to load at all).
const loadNipple = () => import('nipplejs').then((m) => m.default);

const STICK_SIZE = 96; // px, the outer circle; the zone around it is larger
const TAP_SLOP_PX = 6; // as input.js onFloorClick: less than this is a tap
const LOOK_RAD_PER_PX = Math.PI / 480; // a half turn for a 480 px swipe

/** Is this a touch device (now)? */
export function isTouchDevice(win = globalThis.window) {
  if (!win?.matchMedia) return false;
  if (win.matchMedia('(pointer: coarse)').matches) return true;
  return win.matchMedia('(any-pointer: coarse)').matches && (win.navigator?.maxTouchPoints ?? 0) > 0;
}

/**
 * Put the joystick into `wrap` (the positioned element around the canvas) and
 * listen for look drags on `canvas`. `turnBy(dyaw)` turns the local avatar
 * (+ counter-clockwise); `onChange(enabled)` is told when the device kind changes.
 */
export function installTouchControls({ wrap, canvas, turnBy, onChange = () => {} }) {
  const zone = document.createElement('div');
  zone.className = 'touch-stick';
  zone.id = 'touch-stick';
  zone.setAttribute('aria-hidden', 'true');
  zone.hidden = true;
  wrap.append(zone);

  let manager = null;
  let push = null; // {x, y} in -1..1, y up
  let active = false;
  const controls = {
    enabled: false,
    axes,
    pushed: () => (push ? { ...push } : null),
    setActive(on) {
      active = on;
      if (!on) push = null;
      zone.hidden = !(controls.enabled && active);
    },
  };

  function axes() {
    if (!push) return null;
    return { forward: push.y, strafe: push.x, turn: 0 };
  }

  async function create() {
    const nipplejs = await loadNipple();
    if (manager) return;
    manager = nipplejs.create({
      zone,
      mode: 'static',
      position: { left: '50%', top: '50%' },
      size: STICK_SIZE,
      // The stick (front) in the brand colour, 3:1 and more against the floor and the ring.
      color: { front: '#0c4a6e', back: 'rgb(12 74 110 / 0.18)' },
      restOpacity: 1,
      fadeTime: 0,
      dynamicPage: true,
    });
    manager.on('move', (evt) => {
      const v = evt?.data?.vector;
      if (!v) return;
      const len = Math.hypot(v.x, v.y);
      const k = len > 1 ? 1 / len : 1; // the circle's edge is full speed
      push = { x: v.x * k, y: v.y * k };
    });
    manager.on('end', () => { push = null; });
  }

  function setEnabled(on) {
    if (on === controls.enabled) return;
    controls.enabled = on;
    zone.hidden = !(on && active);
    if (on && !manager) {
      create().catch((err) => console.warn('servicepoint: the touch joystick did not load', err));
    }
    if (!on) push = null;
    onChange(on);
  }

  // --- drag to look: a touch or pen drag on the canvas (not on the joystick) ---
  const drags = new Map(); // pointerId -> {x, looking}
  canvas.addEventListener('pointerdown', (e) => {
    if (e.pointerType === 'mouse') return;
    drags.set(e.pointerId, { x: e.clientX, y: e.clientY, lastX: e.clientX, looking: false });
  });
  canvas.addEventListener('pointermove', (e) => {
    const d = drags.get(e.pointerId);
    if (!d) return;
    if (!d.looking && Math.hypot(e.clientX - d.x, e.clientY - d.y) < TAP_SLOP_PX) return;
    d.looking = true;
    // A swipe to the right turns right (clockwise: yaw goes down).
    turnBy(-(e.clientX - d.lastX) * LOOK_RAD_PER_PX);
    d.lastX = e.clientX;
  });
  const stop = (e) => drags.delete(e.pointerId);
  canvas.addEventListener('pointerup', stop);
  canvas.addEventListener('pointercancel', stop);

  const coarse = globalThis.matchMedia?.('(pointer: coarse)');
  coarse?.addEventListener?.('change', () => setEnabled(isTouchDevice()));
  // A touch on a device that said it had none (a laptop with a touch screen).
  window.addEventListener('touchstart', () => setEnabled(true), { once: true, passive: true });
  setEnabled(isTouchDevice());
  return controls;
}

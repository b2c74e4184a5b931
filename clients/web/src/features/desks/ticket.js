// The citizen's queue ticket and the call to the desk.
//
//   const ticket = new TicketPanel({ send, errorText });
//   ticket.update(msg);        // every `ticket` from the server
//   ticket.serving();          // our desk call started (the case is on)
//   ticket.active              // waiting, called or serving: no second ticket
//
//   const called = new CalledPanel({ send, walk: (x, z) => bool, errorText });
//   called.show(msg);          // `called`: it is our turn at msg.desk
//   called.respond();          // "I'm coming"; called.walkThere() -> bool: "Walk me there"
//   called.hide();
//
// The ticket panel shows the number, service, language, status, place in the
// queue and the estimated wait (or, without `wait_s`, that nobody on duty can
// serve it right now); a visually hidden status line announces
// changes politely. The call panel is the loud one: its sentence is in an
// assertive live region, with a countdown (role=timer, not announced every
// second) and two buttons: "I'm coming" (respond) and "Walk me there".

import { langName, onLanguageChange, t } from '../../core/i18n.js';
import { deskById, deskName, serviceLabel } from '../../world.js';
import { duration } from './duration.js';

const $ = (id) => document.getElementById(id);

export const ACTIVE = new Set(['waiting', 'called', 'serving']);

/** Does the ticket have an estimate? (Without one, nobody on duty can serve it now.) */
const staffed = (tk) => typeof tk.wait_s === 'number';

/** Is the focus nowhere, or inside `selector` (a panel about to be hidden)? */
export function focusLost(selector) {
  const el = document.activeElement;
  return !el || el === document.body || Boolean(el.closest(selector));
}

export class TicketPanel {
  constructor({ send, errorText }) {
    this.send = send;
    this.errorText = errorText;
    this.panel = $('ticket-panel');
    this.world = null;
    this.ticket = null; // the last `ticket` message, with status kept up to date
    this.dismissed = false;
    this.errorCode = null;
    this.spoken = '';
    $('ticket-leave').addEventListener('click', () => {
      this.showError(null);
      this.send({ t: 'leave_queue' });
    });
    $('ticket-dismiss').addEventListener('click', () => {
      this.dismissed = true;
      this.render();
      this.onDismiss?.();
    });
    onLanguageChange(() => {
      this.render();
      if (this.errorCode) this.showError(this.errorCode);
    });
  }

  setWorld(world) {
    this.world = world;
    this.render();
  }

  get active() {
    return Boolean(this.ticket && ACTIVE.has(this.ticket.status));
  }

  get visible() {
    return Boolean(this.ticket) && !this.dismissed;
  }

  update(msg) {
    const fresh = !this.ticket || this.ticket.ticket !== msg.ticket;
    this.ticket = { ...msg };
    if (fresh) this.dismissed = false;
    this.showError(null);
    this.render();
    this.speak();
    // The kiosk that had the focus is gone: continue at the ticket.
    if (fresh && focusLost('#service-panel')) $('ticket-heading').focus();
  }

  /** The desk call for our ticket started: we are being served. */
  serving() {
    if (!this.ticket || this.ticket.status !== 'called') return;
    this.ticket.status = 'serving';
    this.ticket.position = 0;
    this.ticket.wait_s = 0;
    this.render();
    this.speak();
  }

  clear() {
    this.ticket = null;
    this.dismissed = false;
    this.spoken = '';
    $('ticket-live').textContent = '';
    this.render();
  }

  statusText() {
    const tk = this.ticket;
    if ((tk.status === 'done' || tk.status === 'no_show') && tk.outcome) return t(`ticket.outcome.${tk.outcome}`);
    return t(`ticket.status.${tk.status}`);
  }

  render() {
    const tk = this.ticket;
    this.panel.hidden = !this.visible;
    if (!tk) return;
    this.panel.dataset.status = tk.status;
    $('ticket-number').textContent = tk.ticket;
    $('ticket-service').textContent = serviceLabel(this.world, tk.service);
    $('ticket-lang').textContent = langName(tk.lang);
    $('ticket-status').textContent = this.statusText();
    const waiting = tk.status === 'waiting';
    $('ticket-position-row').hidden = !waiting;
    $('ticket-wait-row').hidden = !waiting;
    $('ticket-position').textContent = t('ticket.place', { position: tk.position, ahead: Math.max(0, tk.position - 1) });
    // No wait_s (protocol version 2): nobody on duty can serve this ticket now.
    $('ticket-wait').textContent = staffed(tk) ? duration(tk.wait_s) : t('ticket.no_staff');
    $('ticket-leave').hidden = !(tk.status === 'waiting' || tk.status === 'called');
    $('ticket-dismiss').hidden = ACTIVE.has(tk.status);
  }

  /** Announce (politely) what changed: place, wait or status. */
  speak() {
    const tk = this.ticket;
    const text = tk.status === 'waiting'
      ? t('ticket.summary_waiting', {
        ticket: tk.ticket,
        position: tk.position,
        staffed: staffed(tk) ? 'yes' : 'no',
        wait: staffed(tk) ? duration(tk.wait_s) : '',
      })
      : t('ticket.summary', { ticket: tk.ticket, status: this.statusText() });
    if (text === this.spoken) return;
    this.spoken = text;
    $('ticket-live').textContent = text;
  }

  showError(code) {
    this.errorCode = code;
    $('ticket-error').textContent = code ? this.errorText(code) : '';
  }

  state() {
    return this.ticket ? { ...this.ticket } : null;
  }
}

export class CalledPanel {
  constructor({ send, walk, errorText }) {
    this.send = send;
    this.walk = walk;
    this.errorText = errorText;
    this.panel = $('called-panel');
    this.world = null;
    this.call = null; // the `called` message, plus deadline (performance.now() ms)
    this.timer = null;
    this.errorCode = null;
    $('called-coming').addEventListener('click', () => this.respond());
    $('called-walk').addEventListener('click', () => this.walkThere());
    onLanguageChange(() => {
      if (!this.call) return;
      $('called-text').textContent = this.sentence();
      this.tick();
      if (this.errorCode) this.showError(this.errorCode);
    });
  }

  setWorld(world) {
    this.world = world;
  }

  get visible() {
    return Boolean(this.call);
  }

  /** "I'm coming" (also the VR panel's): answer the call. */
  respond() {
    this.showError(null);
    this.send({ t: 'respond' });
  }

  /** "Walk me there" (also the VR panel's): walk to the desk's spot; true when set off. */
  walkThere() {
    if (!this.call) return false;
    if (!this.walk(this.call.x, this.call.z)) return false;
    this.onWalking?.(this.deskLabel());
    return true;
  }

  deskLabel() {
    const desk = deskById(this.world, this.call.desk);
    return desk ? deskName(desk) : this.call.desk;
  }

  sentence() {
    return t('called.text', { desk: this.deskLabel(), ticket: this.call.ticket });
  }

  show(msg) {
    const again = this.call?.ticket === msg.ticket;
    this.call = { ...msg, deadline: performance.now() + msg.timeout_s * 1000 };
    this.showError(null);
    this.panel.hidden = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), 1000);
    this.tick();
    if (again) return;
    // Fill the assertive region only once it is displayed, so it is announced.
    const text = $('called-text');
    text.textContent = '';
    setTimeout(() => { if (this.call) text.textContent = this.sentence(); }, 100);
    // Bring the keyboard to the answer, unless the person is typing somewhere.
    const el = document.activeElement;
    const typing = el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT');
    if (!typing) $('called-coming').focus();
  }

  remaining() {
    return this.call ? Math.max(0, Math.ceil((this.call.deadline - performance.now()) / 1000)) : 0;
  }

  tick() {
    if (!this.call) return;
    const s = this.remaining();
    $('called-countdown').textContent = s > 0 ? t('called.countdown', { s }) : t('called.expired');
    if (s === 0) clearInterval(this.timer);
  }

  hide() {
    clearInterval(this.timer);
    this.timer = null;
    this.call = null;
    this.panel.hidden = true;
    $('called-text').textContent = '';
    $('called-countdown').textContent = '';
    this.showError(null);
  }

  showError(code) {
    this.errorCode = code;
    $('called-error').textContent = code ? this.errorText(code) : '';
  }

  state() {
    if (!this.call) return null;
    const { deadline, ...msg } = this.call;
    return { ...msg, remaining_s: this.remaining() };
  }
}

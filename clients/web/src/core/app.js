// The page's registry: the core (src/core/hall.js) and every feature
// (src/features/<name>/index.js) install themselves here. Nothing in this file
// knows any feature; main.js only composes.
//
//   app.on('ticket', (msg) => ...);            // a server message, by its `t`
//   app.onError('take_ticket', (msg) => bool); // an `error` whose ref is one of our
//                                              // messages: true when it was shown
//                                              // next to its control
//   app.onWelcome(fn(msg)); app.onJoined(fn(msg)); app.onLeft(fn());
//   app.onLanguage(fn(lang)); app.onFrame(fn(nowS)); app.onPlace(fn(place));
//   app.onClosed(fn(detail) -> text | undefined); // a final close: a better sentence
//   app.send(msg) -> bool; app.announce(text); app.notice(text); app.errorText(code);
//   app.walk(x, z) -> bool;                    // around walls, to a point
//   app.provide('voice', voice); app.service('voice');   // between features
//   app.expose(() => ({ ticket: ... }), { voiceStats }); // the test hook
//
// Shared state, set by the core: app.net, app.view, app.others, app.world,
// app.self ({id, name, role, color, avatar} while in the hall), app.role,
// app.local (the local avatar: x, z, yaw).
//
// An error no feature shows goes to app.notice (the chat, when the chat
// feature is installed), once per code in five seconds.

import { has, onLanguageChange, t } from './i18n.js';

const HOOKS = ['welcome', 'joined', 'left', 'frame', 'place', 'closed'];

export class App {
  constructor() {
    this.handlers = new Map(); // message type -> [fn]
    this.errorHandlers = new Map(); // ref -> [fn]
    this.hooks = Object.fromEntries(HOOKS.map((name) => [name, []]));
    this.services = new Map();
    this.exposed = [];
    this.methods = {};
    this.lastError = { code: null, at: 0 };
    // Set by the core (hall.js).
    this.net = null;
    this.view = null;
    this.others = null;
    this.world = null;
    this.self = null;
    this.role = null;
    this.local = null;
    this.walker = () => false;
    this.announcer = () => {};
  }

  // -- registering ------------------------------------------------------------

  /** Handle every server message of type `type` (several handlers run in install order). */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(fn);
  }

  /** Handle `error`s whose `ref` is `ref`; fn(msg) returns true when it showed the error. */
  onError(ref, fn) {
    if (!this.errorHandlers.has(ref)) this.errorHandlers.set(ref, []);
    this.errorHandlers.get(ref).push(fn);
  }

  onWelcome(fn) { this.hooks.welcome.push(fn); }
  onJoined(fn) { this.hooks.joined.push(fn); }
  /** We are out of the hall: "Leave", or a close that retrying cannot fix. */
  onLeft(fn) { this.hooks.left.push(fn); }
  onFrame(fn) { this.hooks.frame.push(fn); }
  /** A place from "Walk to" was chosen (and the walk started). */
  onPlace(fn) { this.hooks.place.push(fn); }
  /** A final close: fn(detail) may return the sentence to show instead of the default. */
  onClosed(fn) { this.hooks.closed.push(fn); }
  onLanguage(fn) { return onLanguageChange(fn); }

  /** Share `value` with features installed later (app.service(name)). */
  provide(name, value) {
    if (this.services.has(name)) throw new Error(`app: '${name}' is provided twice`);
    this.services.set(name, value);
    return value;
  }

  /** A shared service; throws when no feature installed before provides it. */
  service(name) {
    if (!this.services.has(name)) {
      throw new Error(`app: no '${name}' service (is its feature listed earlier in features/index.js?)`);
    }
    return this.services.get(name);
  }

  /** Add fields to window.servicepoint.state(), and methods to window.servicepoint. */
  expose(stateFn, methods = {}) {
    if (stateFn) this.exposed.push(stateFn);
    Object.assign(this.methods, methods);
  }

  // -- running ----------------------------------------------------------------

  /** Call every `name` hook; returns their results. */
  emit(name, ...args) {
    return this.hooks[name].map((fn) => fn(...args));
  }

  /** A server message: every handler of its type. */
  dispatch(msg) {
    for (const fn of this.handlers.get(msg.t) ?? []) fn(msg);
  }

  /** An `error` in the hall: next to its control, else as a notice. */
  error(msg) {
    for (const fn of this.errorHandlers.get(msg.ref) ?? []) if (fn(msg)) return;
    const now = globalThis.performance?.now() ?? Date.now();
    if (msg.code === this.lastError.code && now - this.lastError.at < 5000) return;
    this.lastError = { code: msg.code, at: now };
    this.notice(this.errorText(msg.code));
  }

  /** The state the test hook reports: the core's and every feature's. */
  state(base = {}) {
    return Object.assign(base, ...this.exposed.map((fn) => fn()));
  }

  // -- shared services ----------------------------------------------------------

  send(msg) {
    return this.net ? this.net.send(msg) : false;
  }

  /** Say `text` to screen readers (a polite live region). */
  announce(text) {
    this.announcer(text);
  }

  /** A line from the page itself (errors, "you joined"): the chat's notice, else announced. */
  notice(text) {
    const sink = this.services.get('notice');
    if (sink) sink(text);
    else this.announce(text);
  }

  /** The sentence for an error code ('error.<code>'), else the generic one. */
  errorText(code) {
    const key = `error.${code}`;
    return has(key) ? t(key) : t('error.generic', { code });
  }

  /** Walk the local avatar to (x, z) around walls; false when not in the hall. */
  walk(x, z) {
    return this.walker(x, z);
  }

  get inHall() {
    return Boolean(this.self) && this.net?.state === 'joined';
  }

  get isStaff() {
    return this.role === 'staff' || this.role === 'admin';
  }
}

// The connection to the server: hello/welcome/join, resume, reconnection.
//
//   const net = new Net({ url, lang: () => 'sv' });
//   net.addEventListener('message', (e) => handle(e.detail));   // every server message
//   net.addEventListener('state', (e) => show(e.detail));       // {state, ...}
//   net.start({ token, join: { name, color, avatar } });
//   net.send({ t: 'chat', scope: 'zone', text: 'hi' });
//   net.leave();
//
// States: idle -> connecting -> welcomed -> joined; on an unexpected close,
// 'reconnecting' (with backoff; hello carries the resume token so the server
// gives the avatar back) or 'closed' for closes that retrying cannot fix
// (kicked, bad token, replaced by another tab...). 'left' after leave().
//
// The resume token and the join details live in sessionStorage, so a reload
// of the tab resumes the same avatar.
//
// Protocol version 2 servers may give a citizen key in `welcome.citizen`: a
// signed pseudonym that lets the service recognise a returning visitor. It is
// kept in localStorage (never shown, never logged) and sent as `hello.citizen`
// on later connections, only when one is stored (and the catalogue has the
// field: an older server refuses fields it does not know). An `error` with code
// `bad_citizen_key` forgets it, and so do `my_data_erased` and the close 4011
// (ERASED) that follows it: the erased identity is never presented again, the
// resume token is forgotten too, and the next start() joins as a new pseudonym.

import { CATALOGUE } from './protocol/catalogue.js';
import { decode, encode, validate } from './protocol/codec.js';

const CLOSE = CATALOGUE.close;
const CLOSE_NAMES = Object.fromEntries(Object.entries(CLOSE).map(([name, code]) => [code, name]));

/** Closes after which reconnecting would only repeat the problem. */
const FINAL_CLOSES = new Set([
  CLOSE.KICKED, CLOSE.BAD_TOKEN, CLOSE.BAD_VERSION, CLOSE.REPLACED, CLOSE.REVOKED,
  CLOSE.TOO_MANY_ERRORS, CLOSE.FLOOD, CLOSE.MESSAGE_TOO_BIG, CLOSE.ERASED,
]);

const STORE_KEY = 'servicepoint.session';
const CITIZEN_KEY = 'servicepoint.citizen';
const PING_EVERY_MS = 10_000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

/** The name of a close code ('KICKED'), or null when it is not one of ours. */
export function closeName(code) {
  return CLOSE_NAMES[code] ?? null;
}

function loadStored() {
  try {
    return JSON.parse(globalThis.sessionStorage?.getItem(STORE_KEY) || 'null');
  } catch {
    return null;
  }
}

function saveStored(value) {
  try {
    if (value) globalThis.sessionStorage?.setItem(STORE_KEY, JSON.stringify(value));
    else globalThis.sessionStorage?.removeItem(STORE_KEY);
  } catch { /* storage unavailable: no resume across reloads */ }
}

/** The stored citizen key, or null. */
export function storedCitizen() {
  try {
    return globalThis.localStorage?.getItem(CITIZEN_KEY) || null;
  } catch {
    return null;
  }
}

/** Keep the citizen key of a welcome; ``null`` forgets it (a new pseudonym next time). */
export function storeCitizen(key) {
  try {
    if (key) globalThis.localStorage?.setItem(CITIZEN_KEY, key);
    else globalThis.localStorage?.removeItem(CITIZEN_KEY);
  } catch { /* storage unavailable: a new pseudonym next time */ }
}

/** The default WebSocket address: same host as the page, /ws. */
export function defaultUrl(loc = globalThis.location) {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/** Encode and send ``msg`` on ``ws`` if it is open and the message validates. */
export function sendValidated(ws, msg) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  const problem = validate(msg, 'client');
  if (problem) {
    console.warn('servicepoint: not sending an invalid message', msg.t, problem.msg);
    return false;
  }
  ws.send(encode(msg));
  return true;
}

/** A server frame as a validated message, or null (with a console warning). */
export function receiveValidated(data) {
  if (!(data instanceof ArrayBuffer)) return null;
  let msg;
  try {
    msg = decode(new Uint8Array(data));
  } catch {
    console.warn('servicepoint: the server sent a message that is not MessagePack');
    return null;
  }
  const problem = validate(msg, 'server');
  if (problem) {
    console.warn(`servicepoint: ignoring an invalid '${msg?.t}' from the server: ${problem.code} ${problem.msg}`);
    return null;
  }
  return msg;
}

export class Net extends EventTarget {
  constructor({ url = defaultUrl(), lang = () => 'en' } = {}) {
    super();
    this.url = url;
    this.lang = lang;
    this.ws = null;
    this.state = 'idle';
    this.welcome = null;
    this.token = null;
    this.joinParams = null;
    this.resume = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pingN = 0;
    this.pingSent = new Map();
    this.rttMs = null;
    this.lastError = null;
  }

  /** Saved session of this tab (resume token and join details), if any. */
  static stored() {
    return loadStored();
  }

  /** Connect and join (or resume). `join` is {name, color, avatar}. */
  start({ token = null, join, resume = null } = {}) {
    this.token = token || null;
    this.joinParams = join;
    this.resume = resume;
    this.attempt = 0;
    this.connect();
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.teardown();
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      const hello = { t: 'hello', v: CATALOGUE.version, lang: this.lang() };
      if (this.token) hello.token = this.token;
      if (this.resume) hello.resume = this.resume;
      const citizen = storedCitizen();
      if (citizen && CATALOGUE.client.hello.fields.citizen) hello.citizen = citizen;
      this.send(hello);
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => this.closed(ws, ev.code, ev.reason);
    // An 'error' event is always followed by 'close'; handling it there is enough.
    ws.onerror = () => {};
  }

  /** Send one client message. Returns false when it was not sent. */
  send(msg) {
    return sendValidated(this.ws, msg);
  }

  /** Leave for good: bye, close, forget the resume token. */
  leave() {
    this.send({ t: 'bye' });
    this.forget();
    this.teardown(1000);
    this.setState('left');
  }

  /** Forget the stored session (a later start() joins afresh). */
  forget() {
    this.resume = null;
    saveStored(null);
  }

  receive(data) {
    const msg = receiveValidated(data);
    if (!msg) return;
    switch (msg.t) {
      case 'welcome':
        this.welcome = msg;
        this.resume = msg.resume;
        if (typeof msg.citizen === 'string' && msg.citizen) storeCitizen(msg.citizen);
        saveStored({ resume: msg.resume, join: this.joinParams, token: this.token });
        this.setState('welcomed');
        if (!msg.resumed) {
          const join = { t: 'join', name: this.joinParams.name };
          if (this.joinParams.color !== undefined) join.color = this.joinParams.color;
          if (this.joinParams.avatar) join.avatar = this.joinParams.avatar;
          this.send(join);
        }
        break;
      case 'joined':
        this.attempt = 0;
        this.setState('joined');
        this.startPings();
        break;
      case 'pong': {
        const sent = this.pingSent.get(msg.n);
        if (sent !== undefined) {
          this.rttMs = Math.round(performance.now() - sent);
          this.pingSent.delete(msg.n);
        }
        break;
      }
      case 'error':
        this.lastError = msg;
        if (msg.code === 'bad_citizen_key') storeCitizen(null);
        break;
      case 'my_data_erased':
        storeCitizen(null);
        this.forget();
        break;
      default:
        break;
    }
    this.dispatchEvent(new CustomEvent('message', { detail: msg }));
  }

  closed(ws, code, reason) {
    if (ws !== this.ws) return; // an old socket we already replaced
    this.ws = null;
    this.stopPings();
    if (this.state === 'left') return;
    const name = closeName(code);
    const badToken = this.lastError?.code === 'bad_token' && this.state === 'connecting';
    if (code === CLOSE.ERASED) storeCitizen(null);
    if (FINAL_CLOSES.has(code) || badToken) {
      this.forget();
      this.setState('closed', { code, name: badToken ? 'BAD_TOKEN' : name, reason });
      return;
    }
    this.scheduleRetry(code, name);
  }

  scheduleRetry(code = null, name = null) {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    this.setState('reconnecting', { code, name, delayMs: delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startPings() {
    this.stopPings();
    const ping = () => {
      this.pingN = (this.pingN + 1) >>> 0;
      this.pingSent.set(this.pingN, performance.now());
      if (this.pingSent.size > 8) this.pingSent.delete(this.pingSent.keys().next().value);
      this.send({ t: 'ping', n: this.pingN });
    };
    ping();
    this.pingTimer = setInterval(ping, PING_EVERY_MS);
  }

  stopPings() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  teardown(code) {
    this.stopPings();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onmessage = ws.onclose = null;
      if (ws.readyState === WebSocket.OPEN) {
        ws.onopen = null;
        ws.close(code ?? 1000);
      } else if (ws.readyState === WebSocket.CONNECTING) {
        // Closing a socket that is still connecting makes Chromium log an error;
        // let it open, then close it quietly.
        ws.onopen = () => ws.close(1000);
      }
    }
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, ...detail } }));
  }
}

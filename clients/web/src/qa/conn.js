// The standalone Q&A page's connection: hello on /ws, never join (Q&A messages
// are allowed in the session's join phase), and reconnect with backoff.
//
//   const conn = new QaConnection({ lang: () => 'sv', token: () => tokenOrNull });
//   conn.addEventListener('message', (e) => handle(e.detail));   // every server message
//   conn.addEventListener('state', (e) => show(e.detail));       // {state: connecting | welcomed | reconnecting | closed}
//   conn.addEventListener('badtoken', () => ...);                 // the staff token was refused
//   conn.addEventListener('revoked', () => ...);                  // the sign-in session ended (4010)
//   conn.start(); conn.send({ t: 'qa_search', q: 'adress' }); conn.restart();
//
// Identity as in the hall (net.js): the citizen key of the welcome is kept in
// localStorage ('servicepoint.citizen', shared with the hall page, never shown)
// and presented in hello. Staff signed in at the identity provider send no token: the
// handshake carries the session cookie. A development role token comes from the page's
// form (kept in sessionStorage by main.js).

import { CATALOGUE } from '../protocol/catalogue.js';
import { defaultUrl, receiveValidated, sendValidated, storeCitizen, storedCitizen } from '../net.js';

const CLOSE = CATALOGUE.close;
const FINAL = new Set([CLOSE.KICKED, CLOSE.BAD_VERSION, CLOSE.REPLACED, CLOSE.TOO_MANY_ERRORS, CLOSE.FLOOD, CLOSE.MESSAGE_TOO_BIG]);
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const PING_EVERY_MS = 25_000;

export class QaConnection extends EventTarget {
  constructor({ url = null, lang = () => 'en', token = () => null } = {}) {
    super();
    this.url = url || defaultUrl();
    this.lang = lang;
    this.token = token;
    this.ws = null;
    this.state = 'idle';
    this.welcome = null;
    this.attempt = 0;
    this.retry = null;
    this.pinger = null;
    this.pings = 0;
    this.refusedToken = false;
  }

  start() {
    this.attempt = 0;
    this.connect();
  }

  /** Connect afresh (after signing in or out). */
  restart() {
    this.teardown();
    this.start();
  }

  connect() {
    clearTimeout(this.retry);
    this.teardown();
    this.set('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.refusedToken = false;
    ws.onopen = () => {
      const hello = { t: 'hello', v: CATALOGUE.version, lang: this.lang() };
      const token = this.token();
      if (token) hello.token = token;
      const citizen = storedCitizen();
      if (citizen && CATALOGUE.client.hello.fields.citizen) hello.citizen = citizen;
      this.send(hello);
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => this.closed(ws, ev.code);
    ws.onerror = () => {};
  }

  send(msg) {
    return sendValidated(this.ws, msg);
  }

  receive(data) {
    const msg = receiveValidated(data);
    if (!msg) return;
    if (msg.t === 'welcome') {
      this.welcome = msg;
      this.attempt = 0;
      if (typeof msg.citizen === 'string' && msg.citizen) storeCitizen(msg.citizen);
      this.startPings();
      this.set('welcomed');
    } else if (msg.t === 'error' && msg.code === 'bad_citizen_key') {
      storeCitizen(null);
    } else if (msg.t === 'error' && msg.code === 'bad_token') {
      this.refusedToken = true;
    }
    this.dispatchEvent(new CustomEvent('message', { detail: msg }));
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.stopPings();
    if (code === CLOSE.BAD_TOKEN || this.refusedToken) {
      // The page goes on without the token (as a visitor); main.js forgets it.
      this.dispatchEvent(new CustomEvent('badtoken'));
      this.attempt = 0;
      this.connect();
      return;
    }
    if (code === CLOSE.REVOKED) this.dispatchEvent(new CustomEvent('revoked'));
    if (FINAL.has(code)) {
      this.set('closed', { code });
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.set('reconnecting');
    this.retry = setTimeout(() => this.connect(), Math.round(base * (0.75 + Math.random() * 0.5)));
  }

  startPings() {
    this.stopPings();
    this.pinger = setInterval(() => {
      this.pings = (this.pings + 1) >>> 0;
      this.send({ t: 'ping', n: this.pings });
    }, PING_EVERY_MS);
  }

  stopPings() {
    clearInterval(this.pinger);
    this.pinger = null;
  }

  teardown() {
    this.stopPings();
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    else if (ws.readyState === WebSocket.CONNECTING) ws.onopen = () => ws.close(1000);
  }

  set(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, ...detail } }));
  }
}

// Staff sign-in on the hall page: the "Staff sign-in" link, who is signed in, sign-out,
// keeping the session fresh, and a citizen's optional "Prove who I am".
//
//   installSignIn(app);   // after installHall; reads /auth/me
//   window.servicepoint.state().signin   // {signedIn, role, name, signIn, eid, verified}
//
// The session lives in an HttpOnly cookie that this script never sees: the page asks
// the server (GET /auth/me) whether it is signed in, and the WebSocket handshake carries
// the cookie by itself. Before the session expires the page asks for a fresh one
// (GET /auth/refresh, which rotates the cookie). Sign-in and sign-out are plain links
// (/auth/login, /auth/logout): nothing secret ever goes in a URL.
//
// "Prove who I am" hands the citizen key to /auth/eid/start in a short-lived cookie
// (Path=/auth/eid, two minutes), never in the URL; the server clears it at once.

import { t } from './i18n.js';
import { storedCitizen } from '../net.js';

const $ = (id) => document.getElementById(id);
const MIN_REFRESH_MS = 5_000;

async function getJson(path) {
  const resp = await fetch(path, {
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json' },
  });
  if (!resp.ok) return { ok: false, status: resp.status, body: null };
  return { ok: true, status: resp.status, body: await resp.json() };
}

export function installSignIn(app) {
  let me = { signed_in: false, sign_in: false, eid: false };
  let refreshTimer = null;
  let verified = false;
  let loaded = false;

  const status = $('signin-status');
  const login = $('signin-link');
  const logout = $('signout-link');
  const verify = $('verify-button');
  const devToken = $('dev-token');

  function render() {
    const signedIn = Boolean(me.signed_in && me.role && me.role !== 'citizen');
    login.hidden = !me.sign_in || signedIn;
    logout.hidden = !me.signed_in;
    status.textContent = signedIn
      ? t('signin.as', { name: me.name ?? '', role: t(`role.${me.role}`) })
      : (verified ? t('verify.done') : '');
    if (devToken) devToken.hidden = signedIn;
    verify.hidden = !me.eid || signedIn || verified || !storedCitizen();
  }

  function schedule() {
    clearTimeout(refreshTimer);
    refreshTimer = null;
    if (!me.signed_in) return;
    const delay = Math.max(MIN_REFRESH_MS, (Number(me.refresh_in) || 0) * 1000);
    refreshTimer = setTimeout(refresh, delay);
  }

  async function load() {
    try {
      const got = await getJson('/auth/me');
      if (got.ok) me = got.body;
    } catch { /* the server is not reachable: the hall's own status says so */ }
    loaded = true;
    render();
    schedule();
    return me;
  }

  async function refresh() {
    try {
      const got = await getJson('/auth/refresh');
      if (got.ok) me = got.body;
      else if (got.status === 401) me = { ...me, signed_in: false, role: null, name: null };
    } catch { /* try again at the next round */ }
    render();
    schedule();
  }

  // The sign-in was revoked or ended (close 4010): ask again (the server clears a dead cookie).
  app.onClosed((detail) => {
    if (detail?.name === 'REVOKED') load();
    return undefined;
  });
  app.onWelcome((msg) => {
    verified = msg.verified === true;
    render();
  });

  verify.addEventListener('click', () => {
    const key = storedCitizen();
    if (!key) return;
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = `sp_citizen=${key}; Path=/auth/eid; Max-Age=120; SameSite=Strict${secure}`;
    location.assign('/auth/eid/start');
  });
  app.onLanguage(render);

  const ready = load();
  app.expose(() => ({
    signin: {
      loaded: loaded,
      signedIn: Boolean(me.signed_in && me.role && me.role !== 'citizen'),
      role: me.role ?? null,
      name: me.name ?? null,
      signIn: Boolean(me.sign_in),
      eid: Boolean(me.eid),
      verified,
    },
  }));
  return { ready, reload: load };
}

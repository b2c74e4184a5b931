// Staff sign-in on the hall page: the "Staff sign-in" link, who is signed in, sign-out,
// keeping the session fresh, and a citizen's optional "Prove who I am".
//
//   installSignIn(app);   // after installHall; reads /auth/me
//   window.servicepoint.state().signin   // {signedIn, role, name, signIn, eid, verified}
//
// The session lives in an HttpOnly cookie that this script never sees; core/session.js
// asks the server (GET /auth/me) whether it is signed in and keeps the session fresh
// (GET /auth/refresh, which rotates the cookie), and the WebSocket handshake carries the
// cookie by itself. Sign-in and sign-out are plain links (/auth/login, /auth/logout):
// nothing secret ever goes in a URL.
//
// "Prove who I am" hands the citizen key to /auth/eid/start in a short-lived cookie
// (Path=/auth/eid, two minutes), never in the URL; the server clears it at once.

import { t } from './i18n.js';
import { Session } from './session.js';
import { storedCitizen } from '../net.js';

const $ = (id) => document.getElementById(id);

export function installSignIn(app) {
  let verified = false;

  const status = $('signin-status');
  const login = $('signin-link');
  const logout = $('signout-link');
  const verify = $('verify-button');
  const devToken = $('dev-token');

  function render() {
    const { me, signedIn } = session;
    login.hidden = !me.sign_in || signedIn;
    logout.hidden = !me.signed_in;
    status.textContent = signedIn
      ? t('signin.as', { name: me.name ?? '', role: t(`role.${me.role}`) })
      : (verified ? t('verify.done') : '');
    if (devToken) devToken.hidden = signedIn;
    verify.hidden = !me.eid || signedIn || verified || !storedCitizen();
  }

  const session = new Session(render);
  const load = () => session.load();

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
  app.expose(() => ({ signin: { ...session.snapshot(), verified } }));
  return { ready, reload: load };
}

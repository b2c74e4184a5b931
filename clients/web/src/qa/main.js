// The standalone Q&A page (qa.html): the whole Q&A wall without 3D or an avatar.
//
// It connects to /ws and says hello (with the citizen key the hall page keeps), and
// never joins: the Q&A messages are allowed before joining. The interface is the
// hall's Q&A panel (features/qa/view.js) at page level, with a router on the
// address's fragment, so every topic has a stable link:
//
//   qa.html#/            search (as you type, with filters), the newest topics
//   qa.html#/t/<id>      a topic (a merged one shows its canonical topic, with a note)
//   qa.html#/post        ask a question
//   qa.html#/mine        my questions, notices, export and erasure of my data
//   qa.html#/queue       staff: questions waiting for an official answer, overdue first
//
// Staff: the page first asks GET /auth/me (core/session.js). Signed in at the identity
// provider, the WebSocket goes without a token (its handshake carries the HttpOnly session
// cookie), the header says who is signed in with a "Sign out" link, and the session is
// kept fresh. Otherwise the header has a "Staff sign-in" link (/auth/login?next=/qa.html;
// the route in the fragment is kept in this tab and taken up again after signing in).
// For development a role token can be pasted into the side form (kept in sessionStorage,
// this tab only); a token is never taken from the address.
//
// Strings: the core's and the qa feature's catalogues (keys qa.page.* for this page).
// Test hook: window.servicepoint.state() -> {connected, state, role, lang, auth
// ('session' | 'token' | null), session: {loaded, signedIn, role, name, signIn}, view, q,
// results, topic, replies, held, ...} (QaView.snapshot()).

import { LANGS, LANG_NAMES, getLanguage, initialLanguage, loadMessages, onLanguageChange, setLanguage, t } from '../core/i18n.js';
import { QaView } from '../features/qa/view.js';
import { QaConnection } from './conn.js';
import { LOGOUT_HREF, Session, loginHref } from '../core/session.js';
import { keepToken, storedToken } from '../core/token.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'servicepoint.qa.token';
const RETURN_KEY = 'servicepoint.qa.return';

await Promise.all([
  new URL('../core/messages/', import.meta.url),
  new URL('../features/qa/messages/', import.meta.url),
].map(loadMessages));

// --- staff: the sign-in session (cookie), or a pasted development token --------------------
let token = storedToken(TOKEN_KEY);
const session = new Session(() => renderSignin());
/** The token the hello carries: none while signed in (the cookie says who). */
const helloToken = () => (session.signedIn ? null : token || null);

// --- routes -------------------------------------------------------------------------------
/** The fragment of a route. */
function hashOf(route) {
  if (route.view === 'topic') return `#/t/${route.id}`;
  if (route.view === 'home') return route.q ? `#/?q=${encodeURIComponent(route.q)}` : '#/';
  return `#/${route.view}`;
}

/** The route of a fragment (unknown ones: the search). */
export function routeOf(hash) {
  const path = hash.replace(/^#/, '') || '/';
  const [p, query = ''] = path.split('?');
  const topic = p.match(/^\/t\/(\d{1,16})\/?$/);
  if (topic) return { view: 'topic', id: Number(topic[1]) };
  if (['/post', '/mine', '/queue'].includes(p)) return { view: p.slice(1) };
  const q = new URLSearchParams(query).get('q');
  return q ? { view: 'home', q } : { view: 'home' };
}

// --- language -------------------------------------------------------------------------------
const langSelect = $('qa-lang');
for (const code of LANGS) {
  const opt = document.createElement('option');
  opt.value = code;
  opt.lang = code;
  opt.textContent = LANG_NAMES[code];
  langSelect.append(opt);
}
langSelect.addEventListener('change', () => setLanguage(langSelect.value));

// --- the connection and the view ----------------------------------------------------------------
const conn = new QaConnection({ lang: getLanguage, token: helloToken });
let role = null;
let world = null;
let statusKey = 'qa.page.status.connecting';
let tokenRefused = false;

const view = new QaView({
  root: $('qa-app'),
  send: (m) => conn.send(m),
  world: () => world,
  role: () => role,
  mode: 'page',
  level: 2,
  href: hashOf,
  navigate: (route) => {
    const hash = hashOf(route);
    if (location.hash === hash) view.open(routeOf(hash));
    else location.hash = hash;
  },
});

view.onTopicShown = (topic, from) => {
  // A merged topic's link: the address shows the canonical topic (the note says why).
  if (from && location.hash !== `#/t/${topic.id}`) history.replaceState(null, '', `#/t/${topic.id}`);
  renderTitle();
};

function renderTitle() {
  const topic = view.route.view === 'topic' ? view.topic : null;
  document.title = topic?.title
    ? t('qa.page.doc_title', { title: topic.title })
    : `${t('qa.hud.heading')} – ${t('app.title')}`;
}

function renderStatus() {
  const el = $('qa-status');
  el.textContent = t(statusKey);
  el.dataset.state = conn.state === 'welcomed' ? 'joined' : conn.state;
}

function renderSignin() {
  const { me, signedIn } = session;
  $('qa-who').textContent = signedIn ? t('signin.as', { name: me.name ?? '', role: t(`role.${me.role}`) }) : '';
  $('qa-signin-link').hidden = !me.sign_in || signedIn;
  $('qa-signout-link').hidden = !me.signed_in;
  $('qa-signin').hidden = signedIn;
  const staff = !signedIn && token && role && role !== 'citizen';
  $('qa-signed-in').hidden = !staff;
  $('qa-signed-in').textContent = staff ? t('qa.page.signed_in', { role: t(`role.${role}`) }) : '';
  $('qa-signout').hidden = !token || signedIn;
  $('qa-signin-error').textContent = tokenRefused ? t('qa.page.bad_token') : '';
}

// What happened to one's posts while here (qa_notice): shown above the wall, and announced.
const notices = [];
let noticeSeq = 0;
function renderNotices() {
  $('qa-page-notices').hidden = notices.length === 0;
  $('qa-notice-list').replaceChildren(...notices.map((n) => {
    const li = document.createElement('li');
    li.dataset.notice = n.kind;
    li.append(view.noticeText(n), ' ');
    const a = document.createElement('a');
    a.href = `#/t/${n.topic}`;
    a.textContent = t('qa.notice.show');
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'secondary';
    close.textContent = t('qa.notice.dismiss');
    close.addEventListener('click', () => {
      notices.splice(notices.indexOf(n), 1);
      renderNotices();
      $('qa-main').focus();
    });
    li.append(a, ' ', close);
    return li;
  }));
}

let routed = false;
conn.addEventListener('state', (e) => {
  const s = e.detail.state;
  statusKey = {
    connecting: 'qa.page.status.connecting',
    welcomed: 'qa.page.status.connected',
    reconnecting: 'qa.page.status.reconnecting',
    closed: 'qa.page.status.closed',
  }[s] || statusKey;
  renderStatus();
});
// The session ended or was revoked (close 4010): ask again (the server clears a dead cookie);
// the connection comes back as a visitor.
conn.addEventListener('revoked', () => session.load());
conn.addEventListener('badtoken', () => {
  token = '';
  keepToken(TOKEN_KEY, '');
  tokenRefused = true;
  renderSignin();
});
conn.addEventListener('message', (e) => {
  const msg = e.detail;
  if (msg.t === 'welcome') {
    role = msg.role;
    world = msg.world;
    renderSignin();
    if (!routed) {
      routed = true;
      view.open(routeOf(location.hash), { focus: false });
    } else {
      view.refresh();
    }
    renderTitle();
    return;
  }
  if (msg.t === 'error') {
    if (!view.error(msg) && msg.code !== 'bad_token' && msg.code !== 'bad_citizen_key') view.announce(view.errorText(msg.code));
    return;
  }
  if (msg.t.startsWith('qa_')) {
    view.handle(msg);
    if (msg.t === 'qa_topic' || msg.t === 'qa_update') renderTitle();
    if (msg.t === 'qa_notice') {
      notices.unshift({ ...msg, key: (noticeSeq += 1) });
      notices.splice(4);
      renderNotices();
      view.announce(view.noticeText(msg));
    }
  }
});

window.addEventListener('hashchange', () => {
  view.open(routeOf(location.hash));
  renderTitle();
});

// --- staff sign-in ------------------------------------------------------------------------------
$('qa-signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('qa-token').value.trim();
  if (!value) { $('qa-token').focus(); return; }
  token = value;
  keepToken(TOKEN_KEY, token);
  tokenRefused = false;
  $('qa-token').value = '';
  renderSignin();
  conn.restart();
});
// Signing in leaves the page: the route in the fragment (which no server sees) waits here.
$('qa-signin-link').addEventListener('click', () => {
  try { sessionStorage.setItem(RETURN_KEY, hashOf(routeOf(location.hash))); } catch { /* private mode */ }
});
$('qa-signout').addEventListener('click', () => {
  token = '';
  keepToken(TOKEN_KEY, '');
  role = null;
  renderSignin();
  conn.restart();
  $('qa-token').focus();
});

onLanguageChange((lang) => {
  langSelect.value = lang;
  renderNotices();
  renderStatus();
  renderSignin();
  renderTitle();
});

setLanguage(initialLanguage());
renderStatus();
$('qa-signin-link').href = loginHref('/qa.html');
$('qa-signout-link').href = LOGOUT_HREF;
await session.load();
try {
  const back = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  if (back && session.signedIn && !location.hash) history.replaceState(null, '', hashOf(routeOf(back)));
} catch { /* private mode */ }
conn.start();

window.servicepoint = {
  state: () => ({
    connected: conn.state === 'welcomed',
    state: conn.state,
    role,
    lang: getLanguage(),
    auth: session.signedIn ? 'session' : (token ? 'token' : null),
    session: session.snapshot(),
    ...view.snapshot(),
  }),
};

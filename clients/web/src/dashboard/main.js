// The dashboard page (dashboard.html): the manager's view of queues, waits,
// service level and satisfaction, from GET /api/insight/dashboard.
//
// Sign-in: the page first asks GET /auth/me (core/session.js). A manager or admin
// signed in at the identity provider is shown the board at once: every request goes
// with the HttpOnly session cookie (`credentials: 'same-origin'`, no Authorization
// header), the session is kept fresh, and the header says who is signed in with a
// "Sign out" link (/auth/logout). Anyone else gets a "Sign in" link
// (/auth/login?next=/dashboard.html). For development a manager role token can be
// pasted into the password field: kept in sessionStorage (this tab only) and sent as
// `Authorization: Bearer`; never taken from the address.
//
// Updates: every 5 s, one request at a time, none while the tab is hidden;
// "Pause updates" stops them (WCAG 2.2.2) until "Resume updates".
// Strings: core/i18n.js with the core's, the insight feature's (alert kinds),
// the scorecard feature's (metric names, challenges) and the dashboard's own
// catalogues (src/dashboard/messages/<lang>.json).
//
// The staff scorecard section (scorecard.js) loads when the board opens and on
// its own "Update" button, not with the poll: each of its requests is audited.
//
// Test hook: window.servicepoint.state() -> {signedIn, auth ('session' | 'token' | null),
// session: {loaded, signedIn, role, name, signIn}, paused, fetches, lang, data, charts,
// cases, error, scorecard}; window.servicepoint.refresh().

import {
  LANGS, LANG_NAMES, getLanguage, initialLanguage, loadMessages, onLanguageChange, setLanguage, t,
} from '../core/i18n.js';
import { Session } from '../core/session.js';
import { keepToken, storedToken } from '../core/token.js';
import { Api, ApiError, Poller } from './api.js';
import { Board } from './board.js';
import { ScorecardSection } from './scorecard.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'servicepoint.dashboard.token';
const INTERVAL_MS = 5000;
const ROLES = ['manager', 'admin'];

await Promise.all([
  new URL('../core/messages/', import.meta.url),
  new URL('../features/insight/messages/', import.meta.url),
  new URL('../features/scorecard/messages/', import.meta.url),
  new URL('./messages/', import.meta.url),
].map(loadMessages));

// --- language ----------------------------------------------------------------------
const langSelect = $('dash-lang');
for (const code of LANGS) {
  const opt = document.createElement('option');
  opt.value = code;
  opt.lang = code;
  opt.textContent = LANG_NAMES[code];
  langSelect.append(opt);
}
langSelect.addEventListener('change', () => setLanguage(langSelect.value));
onLanguageChange((lang) => {
  langSelect.value = lang;
  document.title = `${t('dash.title')} – ${t('app.title')}`;
});

// --- who asks: the sign-in session (cookie) or a pasted development token ----------------
let token = storedToken(TOKEN_KEY);
/** How the board is open: 'session' (the cookie), 'token' (bearer), or null (closed). */
let auth = null;
const session = new Session(() => sessionChanged());

// --- state -----------------------------------------------------------------------------
const api = new Api(() => token);
let data = null;
let fetches = 0;
let lastAt = null;
let errorState = null; // {key, values}
let paused = false;

const live = (text) => {
  const region = $('dash-live');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
};

const board = new Board({ onCases: (query, whatFn) => loadCases(query, whatFn) });
const scorecard = new ScorecardSection(api, { onAuthError: (e) => refused(e) });

function showError(key, values = {}) {
  errorState = key ? { key, values } : null;
  $('board-error').textContent = key ? t(key, values) : '';
}

function errorKey(e) {
  if (!(e instanceof ApiError)) return ['dash.error.network', {}];
  if (e.code === 'network') return ['dash.error.network', {}];
  if (e.status === 401 || e.code === 'unauthorized') return ['dash.error.unauthorized', {}];
  if (e.status === 403 || e.code === 'forbidden') return ['dash.error.forbidden', {}];
  if (e.status === 400 || e.code === 'bad_request') return ['dash.error.bad_request', { reason: e.reason || e.code }];
  return ['dash.error.http', { status: e.status }];
}

/** Refused (401/403): back to the sign-in form with the reason. A refused session is
 * asked about again (the server clears a dead cookie). */
function refused(e) {
  let [key, values] = errorKey(e);
  const viaSession = auth === 'session';
  signOut(false);
  if (viaSession) {
    if (key === 'dash.error.unauthorized') key = 'dash.signin.ended';
    session.load();
  }
  showSigninError(key, values);
  (viaSession ? $('signin-link') : $('signin-token')).focus();
}

function showSigninError(key, values = {}) {
  signinError = key ? { key, values } : null;
  $('signin-error').textContent = key ? t(key, values) : '';
}

function isAuthError(e) {
  return e instanceof ApiError && (e.status === 401 || e.status === 403);
}

async function refresh() {
  fetches += 1;
  try {
    data = await api.json('/api/insight/dashboard');
  } catch (e) {
    if (isAuthError(e)) refused(e);
    else showError(...errorKey(e));
    throw e;
  }
  lastAt = Date.now() / 1000;
  showError(null);
  board.render(data);
  defaultReportRange();
  renderUpdated();
}

const poller = new Poller(refresh, INTERVAL_MS);

function renderUpdated() {
  const el = $('dash-updated');
  if (!lastAt) { el.textContent = auth ? t('dash.loading') : ''; return; }
  const time = new Intl.DateTimeFormat(getLanguage(), {
    hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: data?.timezone || undefined,
  }).format(new Date((data?.generated_at ?? lastAt) * 1000));
  el.textContent = paused ? t('dash.updated_paused', { time }) : t('dash.updated', { time, s: INTERVAL_MS / 1000 });
}

function renderPause() {
  const b = $('dash-pause');
  b.dataset.i18n = paused ? 'dash.resume' : 'dash.pause';
  b.textContent = t(b.dataset.i18n);
  b.dataset.paused = String(paused);
}

$('dash-pause').addEventListener('click', () => {
  paused = !paused;
  if (paused) poller.pause();
  else poller.resume();
  renderPause();
  renderUpdated();
  live(t(paused ? 'dash.paused' : 'dash.resumed'));
});

// --- signing in and out --------------------------------------------------------------------
let signinError = null;

function showBoard(on) {
  $('signin').hidden = on;
  $('board').hidden = !on;
  $('dash-pause').hidden = !on;
  renderWho();
}

/** Who is signed in (the header), the sign-out control that fits, the sign-in link. */
function renderWho() {
  const { me, signedIn } = session;
  const role = signedIn ? t(`role.${me.role}`) : '';
  $('dash-who').textContent = signedIn ? t('signin.as', { name: me.name ?? '', role }) : '';
  $('dash-signout-link').hidden = !me.signed_in;
  $('dash-signout').hidden = auth !== 'token';
  $('signin-link').hidden = !me.sign_in || signedIn;
  const wrong = signedIn && !session.hasRole(ROLES);
  $('signin-role').hidden = !wrong;
  $('signin-role').textContent = wrong ? t('dash.signin.wrong_role', { name: me.name ?? '', role }) : '';
}

function open(how) {
  auth = how;
  showSigninError(null);
  showBoard(true);
  renderUpdated();
  poller.start();
  scorecard.load();
}

function signIn(newToken) {
  token = newToken;
  keepToken(TOKEN_KEY, token);
  $('signin-token').value = '';
  open('token');
}

function signOut(announce = true) {
  poller.stop();
  auth = null;
  token = '';
  keepToken(TOKEN_KEY, '');
  data = null;
  lastAt = null;
  scorecard.clear();
  showBoard(false);
  renderUpdated();
  if (announce) live(t('dash.signed_out'));
}

/** After every /auth/me and refresh: open the board for a manager's session, close it
 * when that session ended. */
function sessionChanged() {
  if (auth === 'session' && !session.hasRole(ROLES)) {
    signOut(false);
    showSigninError('dash.signin.ended');
  } else if (!auth && session.hasRole(ROLES)) {
    open('session');
  }
  renderWho();
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('signin-token').value.trim();
  if (!value) {
    showSigninError('dash.signin.required');
    $('signin-token').setAttribute('aria-invalid', 'true');
    $('signin-token').focus();
    return;
  }
  $('signin-token').removeAttribute('aria-invalid');
  signIn(value);
  $('main').focus();
});

$('dash-signout').addEventListener('click', () => {
  signOut(true);
  $('signin-token').focus();
});

// --- cases behind a bar, point or row ----------------------------------------------------------
let casesSeq = 0;
async function loadCases(query, whatFn) {
  const seq = ++casesSeq;
  board.showCases(query, whatFn, null);
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, String(v));
  try {
    const body = await api.json(`/api/insight/cases?${params}`);
    if (seq === casesSeq) board.showCases(query, whatFn, body.cases || []);
  } catch (e) {
    if (isAuthError(e)) { refused(e); return; }
    if (seq === casesSeq) {
      board.showCases(query, whatFn, []);
      const [key, values] = errorKey(e);
      $('cases-status').textContent = t(key, values);
    }
  }
}

// --- the CSV report -------------------------------------------------------------------------------
let rangeSet = false;
function defaultReportRange() {
  if (rangeSet || !data) return;
  rangeSet = true;
  if (!$('report-to').value) $('report-to').value = data.day;
  if (!$('report-from').value) $('report-from').value = data.trend?.days?.[0] ?? data.day;
}

let reportError = null;
function showReportError(key, values = {}) {
  reportError = key ? { key, values } : null;
  $('report-error').textContent = key ? t(key, values) : '';
}

$('report-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const from = $('report-from').value;
  const to = $('report-to').value;
  const by = $('report-by').value;
  showReportError(null);
  $('report-status').textContent = '';
  if (!from || !to) { showReportError('dash.report.required'); (from ? $('report-to') : $('report-from')).focus(); return; }
  if (from > to) { showReportError('dash.report.range'); $('report-from').focus(); return; }
  $('report-status').textContent = t('dash.report.loading');
  try {
    const params = new URLSearchParams({ from, to, by });
    const { blob, filename } = await api.file(`/api/insight/report.csv?${params}`);
    const name = filename || `servicepoint-${by}-${from}-${to}.csv`;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    $('report-status').textContent = t('dash.report.done', { file: name });
  } catch (err) {
    $('report-status').textContent = '';
    if (isAuthError(err)) { refused(err); return; }
    showReportError(...errorKey(err));
  }
});

// --- language switch: everything drawn again ----------------------------------------------------------
onLanguageChange(() => {
  board.rerender();
  scorecard.rerender();
  renderPause();
  renderUpdated();
  if (errorState) showError(errorState.key, errorState.values);
  if (signinError) showSigninError(signinError.key, signinError.values);
  renderWho();
  if (reportError) showReportError(reportError.key, reportError.values);
});

setLanguage(initialLanguage());
renderPause();
showBoard(false);
// The session first; a development token kept in this tab only when it opens nothing.
await session.load();
if (!auth && token) signIn(token);

window.servicepoint = {
  state: () => ({
    signedIn: auth !== null,
    auth,
    session: session.snapshot(),
    paused,
    fetches,
    lang: getLanguage(),
    data,
    error: errorState?.key ?? null,
    ...board.snapshot(),
    ...scorecard.snapshot(),
  }),
  refresh: () => poller.now(),
};

// The dashboard page (dashboard.html): the manager's view of queues, waits,
// service level and satisfaction, from GET /api/insight/dashboard.
//
// Sign-in: a manager (or admin) role token, typed into the password field or
// given in the link's fragment (#token=..., which browsers never send to the
// server; the page removes it from the address bar). It is kept in
// sessionStorage (this tab only) and sent as `Authorization: Bearer`.
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
// Test hook: window.servicepoint.state() -> {signedIn, paused, fetches, lang,
// data, charts, cases, error, scorecard}; window.servicepoint.refresh().

import {
  LANGS, LANG_NAMES, getLanguage, initialLanguage, loadMessages, onLanguageChange, setLanguage, t,
} from '../core/i18n.js';
import { keepToken, storedToken, takeTokenFromLink } from '../core/token.js';
import { Api, ApiError, Poller } from './api.js';
import { Board } from './board.js';
import { ScorecardSection } from './scorecard.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'servicepoint.dashboard.token';
const INTERVAL_MS = 5000;

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

// --- the token -------------------------------------------------------------------------
let token = takeTokenFromLink(TOKEN_KEY) ?? storedToken(TOKEN_KEY);

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

/** A refused token: back to the sign-in form with the reason. */
function refused(e) {
  const [key, values] = errorKey(e);
  signOut(false);
  signinError = { key, values };
  $('signin-error').textContent = t(key, values);
  $('signin-token').focus();
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
  if (!lastAt) { el.textContent = token ? t('dash.loading') : ''; return; }
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
  $('dash-signout').hidden = !on;
}

function signIn(newToken) {
  token = newToken;
  keepToken(TOKEN_KEY, token);
  signinError = null;
  $('signin-error').textContent = '';
  $('signin-token').value = '';
  showBoard(true);
  renderUpdated();
  poller.start();
  scorecard.load();
}

function signOut(announce = true) {
  poller.stop();
  token = '';
  keepToken(TOKEN_KEY, '');
  data = null;
  lastAt = null;
  scorecard.clear();
  showBoard(false);
  renderUpdated();
  if (announce) live(t('dash.signed_out'));
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('signin-token').value.trim();
  if (!value) {
    signinError = { key: 'dash.signin.required', values: {} };
    $('signin-error').textContent = t('dash.signin.required');
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
  if (signinError) $('signin-error').textContent = t(signinError.key, signinError.values);
  if (reportError) showReportError(reportError.key, reportError.values);
});

setLanguage(initialLanguage());
renderPause();
if (token) signIn(token);
else showBoard(false);

window.servicepoint = {
  state: () => ({
    signedIn: Boolean(token),
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

// The standalone schedule page (events.html): the events of the service point
// without 3D or an avatar. It says hello on /ws (with the citizen key the hall
// page keeps, so "Remind me" is the same person's there) and never joins: the
// schedule and registering for a reminder are allowed before joining.
//
// The list is the hall's (features/events/schedule.js) at page level: each event
// with its time in the viewer's zone (and the service point's, when different),
// its status, "Remind me" (event_register) and, while live, a link to the hall;
// the calendar file is /api/events/schedule.ics.
//
// Strings: the core's and the events feature's catalogues (keys events.page.*).
// Test hook: window.servicepoint.state() -> {connected, state, role, lang, tz, schedule}.

import { LANGS, LANG_NAMES, getLanguage, initialLanguage, loadMessages, onLanguageChange, setLanguage, t } from '../core/i18n.js';
import { ScheduleList } from '../features/events/schedule.js';
import { eventTitle } from '../features/events/format.js';
import { QaConnection } from '../qa/conn.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 60_000;

await Promise.all([
  new URL('../core/messages/', import.meta.url),
  new URL('../features/events/messages/', import.meta.url),
].map(loadMessages));

const langSelect = $('ev-lang');
for (const code of LANGS) {
  const opt = document.createElement('option');
  opt.value = code;
  opt.lang = code;
  opt.textContent = LANG_NAMES[code];
  langSelect.append(opt);
}
langSelect.addEventListener('change', () => setLanguage(langSelect.value));

// The same connection as the Q&A page: hello without joining, reconnecting with backoff.
const conn = new QaConnection({ lang: getLanguage });
let role = null;
let statusKey = 'events.page.status.connecting';
let notice = null; // () => the notice's text in the current language

const list = new ScheduleList({ root: $('ev-page-schedule'), send: (m) => conn.send(m), mode: 'page', level: 3 });

function renderStatus() {
  const el = $('ev-status');
  el.textContent = t(statusKey);
  el.dataset.state = conn.state === 'welcomed' ? 'joined' : conn.state;
}

function renderNotice() {
  $('ev-page-notice').textContent = notice ? notice() : '';
}

conn.addEventListener('state', (e) => {
  statusKey = {
    connecting: 'events.page.status.connecting',
    welcomed: 'events.page.status.connected',
    reconnecting: 'events.page.status.reconnecting',
    closed: 'events.page.status.closed',
  }[e.detail.state] || statusKey;
  renderStatus();
});

conn.addEventListener('message', (e) => {
  const msg = e.detail;
  switch (msg.t) {
    case 'welcome':
      role = msg.role;
      conn.send({ t: 'event_schedule' });
      break;
    case 'event_schedule':
      list.set(msg.events, msg.tz);
      break;
    case 'event_info':
      list.update(msg.event);
      break;
    case 'event_reminder':
      list.update(msg.event);
      notice = () => t('events.page.reminder', { title: eventTitle(msg.event) });
      renderNotice();
      break;
    case 'error':
      if (!list.error(msg, errorText(msg.code)) && !['bad_citizen_key', 'bad_token'].includes(msg.code)) {
        notice = () => errorText(msg.code);
        renderNotice();
      }
      break;
    default:
      break;
  }
});

function errorText(code) {
  const key = `error.${code}`;
  const text = t(key);
  return text === key ? t('error.generic', { code }) : text;
}

onLanguageChange((lang) => {
  langSelect.value = lang;
  document.title = `${t('events.heading')} – ${t('app.title')}`;
  renderStatus();
  renderNotice();
  list.render();
});

setLanguage(initialLanguage());
renderStatus();
conn.start();
setInterval(() => { if (conn.state === 'welcomed') conn.send({ t: 'event_schedule' }); }, REFRESH_MS);

window.servicepoint = {
  state: () => ({
    connected: conn.state === 'welcomed',
    state: conn.state,
    role,
    lang: getLanguage(),
    tz: list.tz,
    schedule: list.snapshot(),
  }),
};

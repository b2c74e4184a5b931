// The Q&A wall in the hall: the board (world.qa_wall, drawn from `qa_wall`),
// the "Questions and answers" panel (a dialog with the same interface as
// /qa.html: search as you type, topics, posting, answers, votes; for staff the
// official answer, moderation and the queue), live notices ("new answer to your
// question") as toasts, and for staff a short queue in their console.
//
// Choosing the board opens the panel: a click on it, the HUD button
// "Open the Q&A wall" (always there in the hall), or Enter in the hall view
// while standing in front of it ("Walk to" lists the wall).
//
// Messages: qa_wall, qa_results, qa_topic, qa_posted, qa_held, qa_update,
// qa_notice, qa_revisions, qa_queue, qa_mine, qa_export, qa_erased.
// Sends: every qa_* client message. Errors shown next to their control: every qa_*.
// Provides: 'qa' ({open(topicId), openView(route)}) for features installed later
// (the greeter links its answers to their topic).
// Test hook: qa ({board, near, open, view, toasts, console}) and
// servicepoint.qaBoardPoint() (where the board is on screen).

import { onLanguageChange, t } from '../../core/i18n.js';
import { onFloorClick } from '../../input.js';
import { createBoard } from './board.js';
import { h } from './dom.js';
import { QaView } from './view.js';

export const name = 'qa';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);
const NEAR_M = 4;
const FAR_M = 5;
const KEEP_TOASTS = 4;
const MESSAGES = ['qa_results', 'qa_topic', 'qa_posted', 'qa_held', 'qa_update', 'qa_revisions', 'qa_queue', 'qa_mine', 'qa_export', 'qa_erased'];
const REFS = ['qa_search', 'qa_get', 'qa_post', 'qa_reply', 'qa_edit', 'qa_vote', 'qa_accept', 'qa_flag', 'qa_moderate',
  'qa_set', 'qa_merge', 'qa_revisions', 'qa_queue', 'qa_mine', 'qa_export_mine', 'qa_erase_me'];

/** The standalone page's address of a route (stable links to topics). */
export function pageHref(route) {
  if (route.view === 'topic') return `/qa.html#/t/${route.id}`;
  if (route.view === 'home') return '/qa.html#/';
  return `/qa.html#/${route.view}`;
}

export function install(app) {
  // --- the page's parts: HUD panel, dialog, toasts, staff console block ------------------
  const hud = h('section', { id: 'qa-hud', class: 'panel qa-hud', hidden: true, 'aria-labelledby': 'qa-hud-heading' },
    h('h2', { id: 'qa-hud-heading', 'data-i18n': 'qa.hud.heading' }, t('qa.hud.heading')),
    h('p', { class: 'hint', 'data-i18n': 'qa.hud.intro' }, t('qa.hud.intro')),
    h('p', { id: 'qa-hud-near', class: 'qa-near', hidden: true, 'data-i18n': 'qa.hud.near' }, t('qa.hud.near')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'qa-open', class: 'primary', 'data-i18n': 'qa.hud.open' }, t('qa.hud.open')),
      h('a', { href: '/qa.html', target: '_blank', rel: 'noopener', class: 'qa-page-link', 'data-i18n': 'qa.hud.page' }, t('qa.hud.page'))));
  const places = $('places-panel');
  places.parentNode.insertBefore(hud, places);

  const root = h('div', { id: 'qa-root' });
  const dialog = h('dialog', { id: 'qa-dialog', class: 'qa-dialog', 'aria-labelledby': 'qa-dialog-heading', 'data-own-keys': true },
    h('div', { class: 'qa-dialog-head' },
      h('h2', { id: 'qa-dialog-heading', 'data-i18n': 'qa.hud.heading' }, t('qa.hud.heading')),
      h('button', { type: 'button', id: 'qa-close', class: 'secondary', 'data-i18n': 'qa.close' }, t('qa.close'))),
    root);
  document.body.append(dialog);

  const toasts = h('div', { id: 'qa-toasts', class: 'qa-toasts', role: 'region', 'aria-labelledby': 'qa-toasts-label' },
    h('span', { id: 'qa-toasts-label', class: 'visually-hidden', 'data-i18n': 'qa.toasts' }, t('qa.toasts')),
    h('div', { id: 'qa-toast-live', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' }),
    h('ul', { id: 'qa-toast-list', class: 'qa-toast-list' }));
  document.body.append(toasts);

  const staffBlock = h('section', { id: 'qa-staff', class: 'staff-block qa-staff', hidden: true, 'aria-labelledby': 'qa-staff-heading' },
    h('h3', { id: 'qa-staff-heading', 'data-i18n': 'qa.staff.heading' }, t('qa.staff.heading')),
    h('p', { id: 'qa-staff-summary', class: 'hint', role: 'status' }),
    h('ol', { id: 'qa-staff-list', class: 'plain-list qa-staff-list' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'qa-staff-refresh', class: 'secondary', 'data-i18n': 'qa.queue.refresh' }, t('qa.queue.refresh')),
      h('button', { type: 'button', id: 'qa-staff-open', class: 'secondary', 'data-i18n': 'qa.staff.open' }, t('qa.staff.open'))));
  $('staff-panel')?.append(staffBlock);

  // --- state ---------------------------------------------------------------------------------
  const board = createBoard(app.view);
  let wall = null; // the last qa_wall
  let near = false;
  let opener = null;
  let queue = null; // the last qa_queue (for the console)
  const toastList = []; // {id, text, topic}
  const toasted = new Set(); // reply ids already told about
  let toastSeq = 0;

  const view = new QaView({
    root,
    send: (m) => app.send(m),
    world: () => app.world,
    role: () => app.role,
    mode: 'panel',
    level: 3,
    href: pageHref,
  });

  const isOpen = () => dialog.open;

  function openPanel(route = null) {
    if (!app.world) return;
    if (!dialog.open) {
      opener = document.activeElement;
      dialog.showModal();
    }
    view.open(route ?? (view.route.view === 'home' ? { view: 'home' } : view.route));
  }

  function closePanel() {
    if (dialog.open) dialog.close();
  }
  dialog.addEventListener('close', () => {
    const back = opener && opener.isConnected && !opener.closest('[hidden]') ? opener : $('qa-open');
    opener = null;
    back?.focus();
  });
  $('qa-close').addEventListener('click', closePanel);
  $('qa-open').addEventListener('click', () => openPanel({ view: 'home' }));
  $('qa-staff-open').addEventListener('click', () => openPanel({ view: 'queue' }));
  $('qa-staff-refresh').addEventListener('click', () => app.send({ t: 'qa_queue' }));

  // Enter in the hall view while standing at the wall; a click on the board.
  const canvas = app.view.canvas;
  canvas.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && near && app.inHall && !e.repeat) {
      e.preventDefault();
      openPanel({ view: 'home' });
    }
  });
  onFloorClick(canvas, (x, y) => {
    if (app.inHall && board.hit(x, y)) openPanel({ view: 'home' });
  });

  // --- toasts ----------------------------------------------------------------------------------
  function renderToasts() {
    $('qa-toast-list').replaceChildren(...toastList.map((toast) => h('li', { class: 'qa-toast', dataset: { toast: toast.id, topic: toast.topic ?? '' } },
      h('p', {}, toast.text),
      h('div', { class: 'actions' },
        toast.topic ? h('button', { type: 'button', class: 'primary', dataset: { action: 'show' },
          onclick: () => { dismiss(toast.id); openPanel({ view: 'topic', id: toast.topic }); } }, t('qa.notice.show')) : null,
        h('button', { type: 'button', class: 'secondary', dataset: { action: 'dismiss' },
          onclick: () => dismiss(toast.id, true) }, t('qa.notice.dismiss'))))));
  }

  function dismiss(id, focusNext = false) {
    const i = toastList.findIndex((x) => x.id === id);
    if (i < 0) return;
    toastList.splice(i, 1);
    renderToasts();
    if (focusNext) ($('qa-toast-list').querySelector('button') || $('qa-open'))?.focus();
  }

  function toast(text, topic = null) {
    toastSeq += 1;
    toastList.push({ id: toastSeq, text, topic });
    while (toastList.length > KEEP_TOASTS) toastList.shift();
    renderToasts();
    // The dialog makes the rest of the page inert: say it from inside when it is open.
    if (isOpen()) view.announce(text);
    else {
      const live = $('qa-toast-live');
      live.textContent = '';
      setTimeout(() => { live.textContent = text; }, 50);
    }
  }

  // --- the staff console's queue --------------------------------------------------------------------
  function renderStaff() {
    const show = app.inHall && app.isStaff;
    staffBlock.hidden = !show;
    if (!show) return;
    const waiting = queue?.waiting || [];
    const overdue = waiting.filter((p) => p.overdue).length;
    $('qa-staff-summary').textContent = queue ? t('qa.staff.summary', { n: waiting.length, overdue }) : t('qa.loading');
    $('qa-staff-list').replaceChildren(...waiting.slice(0, 5).map((p) => h('li', { dataset: { topic: p.id, overdue: p.overdue ? 'true' : 'false' } },
      p.overdue ? h('strong', { class: 'qa-overdue-badge' }, t('qa.meta.overdue')) : null, p.overdue ? ' ' : null,
      h('button', { type: 'button', class: 'qa-button-link', onclick: () => openPanel({ view: 'topic', id: p.id }) }, p.title || ''))));
  }

  // --- lifecycle -------------------------------------------------------------------------------------
  function render() {
    hud.hidden = !app.inHall;
    $('qa-hud-near').hidden = !near;
    renderStaff();
  }

  app.onWelcome(() => {
    board.setWorld(app.world);
    if (wall) board.setWall(wall);
    near = false;
    render();
  });
  app.onJoined(() => {
    render();
    if (app.isStaff) app.send({ t: 'qa_queue' });
    view.refresh();
  });
  app.onLeft(() => {
    closePanel();
    near = false;
    queue = null;
    render();
  });
  app.onFrame(() => {
    const local = app.local;
    const spot = board.standPoint();
    if (!app.inHall || !local || !spot) return;
    const d = Math.hypot(local.x - spot.x, local.z - spot.z);
    const was = near;
    if (!near && d < NEAR_M) near = true;
    else if (near && d > FAR_M) near = false;
    if (near !== was) {
      render();
      if (near) app.announce(t('qa.hud.near'));
    }
  });
  onLanguageChange(() => {
    board.relabel();
    renderToasts();
    renderStaff();
  });

  // --- messages ----------------------------------------------------------------------------------------
  app.on('qa_wall', (msg) => {
    wall = { newest: msg.newest || [], top: msg.top || [] };
    board.setWall(wall);
  });
  for (const type of MESSAGES) app.on(type, (msg) => view.handle(msg));
  app.on('qa_queue', (msg) => {
    queue = { waiting: msg.waiting || [], flagged: msg.flagged || [] };
    renderStaff();
  });
  app.on('qa_update', (msg) => {
    // A new answer to one's own question, by someone else: told live, wherever one is.
    const post = msg.post;
    if (!msg.topic?.mine || !post || post.kind !== 'reply' || post.mine || toasted.has(post.id)) return;
    if (post.edited) return;
    toasted.add(post.id);
    const watching = isOpen() && view.route.view === 'topic' && view.topic?.id === msg.topic.id;
    if (watching) return; // the topic view says it itself
    toast(post.official
      ? t('qa.live.official_yours', { title: msg.topic.title || '', name: post.official.staff_name || '' })
      : t('qa.live.reply_yours', { title: msg.topic.title || '', name: view.authorName(post) }), msg.topic.id);
  });
  app.on('qa_notice', (msg) => {
    if (['answered', 'official'].includes(msg.kind) && toasted.has(msg.post)) return;
    toasted.add(msg.post);
    toast(view.noticeText(msg), msg.topic);
  });
  for (const ref of REFS) app.onError(ref, (msg) => view.error(msg));

  app.provide('qa', {
    open: (topic) => openPanel({ view: 'topic', id: topic }),
    openView: (route) => openPanel(route),
  });

  app.expose(() => ({
    qa: {
      board: { drawn: board.drawn, kind: board.kind, newest: (wall?.newest || []).map((p) => p.title), top: (wall?.top || []).map((p) => p.title) },
      near,
      open: isOpen(),
      view: view.snapshot(),
      toasts: toastList.map((x) => ({ text: x.text, topic: x.topic })),
      console: queue ? { waiting: queue.waiting.map((p) => ({ id: p.id, overdue: Boolean(p.overdue) })) } : null,
    },
  }), { qaBoardPoint: () => board.screenPoint() });
}

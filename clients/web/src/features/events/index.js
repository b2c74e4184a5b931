// Events in the auditorium: launches and town halls for hundreds to thousands.
//
// In the hall:
// * the schedule panel ("Events": live and upcoming events with their local
//   times, "Remind me", "Join" while live, the calendar file; for hosts "Schedule
//   an event") and the schedule board in the lobby (3D board / 2D marker; a click,
//   Enter in front of it or a VR select opens the panel);
// * walking into the auditorium while an event is live offers to join it;
// * attending (event panel): the room ("Overflow room 2 of 3", "Move to the main
//   auditorium" when a seat frees), the sound, one's hand, speaking, who is on
//   stage and the slide, captions, written questions with votes, the people at
//   the event with Block / Report, Leave;
// * the host console (event_joined.host; captioners get its captions block);
// * an invitation to speak is a modal consent dialog: only "Accept" opens the
//   microphone (event_accept, then getUserMedia and the publish connection); in a
//   VR session the same question floats in front of the headset (xr-consent.js);
// * in a VR session a small panel floats near the attendee (xr-panel.js): the title,
//   the room, Raise / Lower hand, Leave; or, not attending, in the auditorium or at
//   the lobby board while an event is live, Join;
// * the stage screen: in 3D a screen at the back of the stage with the slide, in
//   the 2D map an overlay with it.
//
// Sound (sound.js): WebCodecs + AudioWorklet on the WebSocket path (event_audio)
// where AudioDecoder exists, else WebRTC listen; speakers publish over WebRTC.
//
// Messages: event_schedule, event_info, event_reminder, event_joined, event_left,
// event_counts, event_stage, event_you, event_hands, event_questions,
// event_question, event_caption, event_upload, event_rtc_answer, event_audio,
// blocked, reported, zone.
// Sends: every event_* client message, block, report.
// Errors shown next to their control: every event_* message, block, report.
// Test hook: events ({schedule, tz, offer, near, attending, you, stage, screen, sound,
// level, consent, questions, caption, host, people, board, xr}); servicepoint.eventsRtcStats(),
// servicepoint.eventsScreenPixel(), servicepoint.eventsBoardPoint();
// window.__events.level(speakerId?) (the worklet's output level, last 500 ms).

import { t } from '../../core/i18n.js';
import { onFloorClick } from '../../input.js';
import { EventPanel } from './attend.js';
import { createBoard } from './board.js';
import { ConsentDialog } from './consent.js';
import { CreateForm } from './create.js';
import { addStyles, h } from './dom.js';
import { CAPTION_ROLES, HOST_ROLES, eventTitle, instanceLabel } from './format.js';
import { HostConsole } from './host.js';
import { PeopleList } from './people.js';
import { QuestionsPanel } from './questions.js';
import { ScheduleList } from './schedule.js';
import { StageSound } from './sound.js';
import { createStageScreen } from './stage.js';
import { SlideUpload } from './upload.js';
import { createXrConsent } from './xr-consent.js';
import { createXrEventPanel } from './xr-panel.js';
import { Heard } from '../../speaking.js';

export const name = 'events';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);
const NEAR_M = 4;
const FAR_M = 5;
const PEOPLE_MAX = 12;
const REFRESH_MS = 60_000;
/** The server may seat whoever walks into the auditorium by itself: offer only if it did not. */
const OFFER_DELAY_MS = 1500;
const HOST_REFS = ['event_promote', 'event_demote', 'event_mute', 'event_kick', 'event_ban', 'event_caption',
  'event_slides_begin', 'event_slides_chunk', 'event_slides_end', 'event_slide'];
const PANEL_REFS = ['event_leave', 'event_move', 'event_hand', 'event_accept', 'event_listen', 'event_rtc_leave'];

export function install(app) {
  addStyles(new URL('./events.css', import.meta.url).href);

  // --- the page's parts ------------------------------------------------------------------------
  const offerHeading = h('h2', { id: 'ev-offer-heading' });
  const offerText = h('p', { id: 'ev-offer-text' });
  const offerJoin = h('button', { type: 'button', id: 'ev-offer-join', class: 'primary', 'aria-describedby': 'ev-offer-text' });
  const offerLater = h('button', { type: 'button', id: 'ev-offer-later', class: 'secondary' });
  const offerError = h('p', { id: 'ev-offer-error', class: 'error', role: 'alert' });
  const offerPanel = h('section', { id: 'ev-offer', class: 'panel ev-offer', hidden: true, 'aria-labelledby': 'ev-offer-heading' },
    offerHeading, offerText, h('div', { class: 'actions' }, offerJoin, offerLater), offerError);

  const scheduleHeading = h('h2', { id: 'ev-schedule-heading', tabindex: '-1' });
  const scheduleNear = h('p', { id: 'ev-board-near', class: 'ev-near', hidden: true });
  const pageLink = h('a', { href: '/events.html', target: '_blank', rel: 'noopener', class: 'ev-link', id: 'ev-page-link' });
  const listRoot = h('div', { id: 'ev-schedule' });
  const createRoot = h('div', { id: 'ev-create-root' });
  const schedulePanel = h('section', { id: 'ev-schedule-panel', class: 'panel ev-schedule-panel', hidden: true,
    'aria-labelledby': 'ev-schedule-heading' }, scheduleHeading, scheduleNear, listRoot, h('p', {}, pageLink), createRoot);

  const attendRoot = h('div', { id: 'ev-attend-root' });
  const hostRoot = h('div', { id: 'ev-host-root' });
  const audioHost = h('div', { id: 'ev-audio', hidden: true });

  const join = $('join-panel');
  join.after(offerPanel);
  offerPanel.after(attendRoot);
  attendRoot.after(hostRoot);
  const places = $('places-panel');
  places.parentNode.insertBefore(schedulePanel, places);
  document.body.append(audioHost);

  // --- state --------------------------------------------------------------------------------------
  let tz = null;
  let zone = null;
  let attending = null; // {event, instance, counts, host}
  let joining = null; // {id, from: 'list' | 'offer'}
  let you = null; // the last event_you
  let stage = { speakers: [], slide: null };
  let consented = false; // "Accept" in this promotion
  let consentMode = null; // 'invite' | 'ask'
  let answered = { invite: false, ask: false }; // answered this invitation / this time on stage
  let lastCaption = null;
  let offer = null; // the live event offered on entering the auditorium
  const dismissed = new Set(); // offers declined ("Not now")
  let near = false;
  let refresher = null;
  let zoneSince = 0; // when we walked into the current zone
  let offerTimer = null;

  const send = (msg) => app.send(msg);
  const eventZone = () => app.world?.stage?.zone || 'auditorium';
  const isHostRole = () => HOST_ROLES.includes(app.role);
  const speaking = () => Boolean(attending && (attending.host || you?.speaker));

  const list = new ScheduleList({
    root: listRoot, send, mode: 'hall', level: 3,
    onJoin: (ev) => joinEvent(ev, 'list'),
    attending: () => attending?.event.id ?? null,
    role: () => app.role,
  });
  const create = new CreateForm({ root: createRoot, send, tz: () => tz || app.world?.timezone || '' });
  const sound = new StageSound({ send, audioHost, selfId: () => app.self?.id, onChange: (what) => { if (what !== 'level') renderPanel(); } });
  const upload = new SlideUpload({ send, onChange: () => host.setUpload(upload) });
  const panel = new EventPanel({
    root: attendRoot,
    actions: {
      leave: () => leaveEvent(),
      move: () => { if (attending) send({ t: 'event_move', instance: 0 }); },
      hand: () => { if (attending) send({ t: 'event_hand', up: !you?.hand }); },
      mic: () => { sound.setMicOn(!sound.rtc.micOn); renderPanel(); },
      sound: () => { sound.resume(); renderPanel(); },
    },
  });
  const questions = new QuestionsPanel({ root: panel.body, send, canAnswer: () => speaking() });
  const people = new PeopleList({ root: panel.body, send, people: () => peopleNearby() });
  const host = new HostConsole({
    root: hostRoot, send, people: () => [...peopleNearby(), ...questions.askers()], onUpload: (file, type) => upload.start(file, type),
  });
  const xrConsent = createXrConsent({ onAnswer: (accept) => consent.answer(accept) });
  const consent = new ConsentDialog({
    onAnswer: (accept) => answerInvitation(accept),
    onShow: (texts) => { xrConsentShown = true; xrConsent.show(texts); renderXr(); },
    onHide: () => { xrConsentShown = false; xrConsent.hide(); renderXr(); },
  });
  // --- the VR panel (xr-panel.js): the same actions as the DOM panel's and the list's Join ---------
  let xrConsentShown = false;
  const xrPanel = createXrEventPanel({
    hand: (up) => { if (attending) send({ t: 'event_hand', up }); },
    leave: () => leaveEvent(),
    join: (ev) => joinEvent(ev, 'xr'),
  });
  /** The live event the VR panel offers: not attending, in the auditorium or at the board. */
  function xrLive() {
    if (!app.inHall || attending || joining || (zone !== eventZone() && !near)) return null;
    return list.liveEvents().find((e) => !e.zone || e.zone === eventZone()) ?? null;
  }
  function renderXr() {
    xrPanel.render({ attending, you, speaking: speaking(), live: xrLive(), consent: xrConsentShown });
  }
  app.onFrame(() => xrPanel.tick());
  // The speaking indicator (view.setSpeaking): the stage's speakers whose voice the
  // WebSocket listening path plays now (sound.level per speaker; the WebRTC path has none).
  const heard = new Heard((id, on) => app.view.setSpeaking(id, on));
  let heardAt = -Infinity;
  app.onFrame((nowS) => {
    if (nowS - heardAt < 0.15) return;
    heardAt = nowS;
    const ids = new Set();
    if (attending) for (const p of stage.speakers) { heard.level(p.id, sound.level(p.id), nowS); ids.add(p.id); }
    heard.only(ids);
  });

  const board = createBoard(app.view, { onSelect: () => openSchedule() });
  const screen = createStageScreen(app.view);

  /** The people one can block or report: on stage, then the nearest others. */
  function peopleNearby() {
    const out = new Map();
    const self = app.self?.id;
    for (const p of stage.speakers) if (p.id !== self) out.set(p.id, { id: p.id, name: p.name, role: p.role });
    const local = app.local;
    const others = [...(app.others?.all.values() ?? [])].map((o) => {
      const last = o.buffer?.last;
      const d = local && last ? Math.hypot(last.x - local.x, last.z - local.z) : 0;
      return { id: o.id, name: o.name, role: o.role, d };
    }).sort((a, b) => a.d - b.d);
    for (const o of others) {
      if (out.size >= PEOPLE_MAX) break;
      if (!out.has(o.id) && o.id !== self) out.set(o.id, { id: o.id, name: o.name, role: o.role });
    }
    return [...out.values()];
  }

  // --- rendering --------------------------------------------------------------------------------------
  function renderPanel() {
    panel.render({
      event: attending?.event ?? null,
      instance: attending?.instance ?? 0,
      counts: attending?.counts ?? [],
      host: attending?.host ?? false,
      you,
      stage,
      sound: attending ? sound.snapshot() : null,
      speaking: speaking(),
    });
    renderXr();
  }

  function renderSchedulePanel() {
    schedulePanel.hidden = !app.inHall;
    scheduleHeading.textContent = t('events.heading');
    scheduleNear.textContent = t('events.board.near');
    scheduleNear.hidden = !near;
    pageLink.textContent = t('events.page.link');
    create.show(app.inHall && isHostRole());
    list.render();
    board.setEvents(list.visible());
  }

  function renderOffer() {
    offerPanel.hidden = !offer;
    if (!offer) return;
    offerHeading.textContent = t('events.offer.heading');
    offerText.textContent = t('events.offer.text', { title: eventTitle(offer) });
    offerJoin.textContent = t('events.offer.join');
    offerLater.textContent = t('events.offer.later');
  }

  function renderAll() {
    renderSchedulePanel();
    renderOffer();
    renderPanel();
    host.render();
    questions.render();
    people.render();
    consent.render();
    board.relabel();
    screen.relabel();
  }

  // --- the offer on entering the auditorium ----------------------------------------------------------------
  function checkOffer() {
    const was = offer?.id ?? null;
    let next = null;
    const settled = performance.now() - zoneSince >= OFFER_DELAY_MS;
    if (app.inHall && zone === eventZone() && !attending && !joining && settled) {
      next = list.liveEvents().find((e) => (!e.zone || e.zone === zone) && !dismissed.has(e.id)) ?? null;
    }
    offer = next;
    renderOffer();
    renderXr();
    if (next && next.id !== was) {
      offerError.textContent = '';
      app.announce(t('events.offer.text', { title: eventTitle(next) }));
    }
  }

  offerJoin.addEventListener('click', () => { if (offer) joinEvent(offer, 'offer'); });
  offerLater.addEventListener('click', () => {
    if (offer) dismissed.add(offer.id);
    offer = null;
    renderOffer();
    app.view.canvas.focus();
  });

  // --- joining and leaving ---------------------------------------------------------------------------------------
  function joinEvent(ev, from) {
    if (!app.inHall || attending?.event.id === ev.id) return;
    list.showError(null);
    offerError.textContent = '';
    sound.prepare(); // in the click: the browser lets the sound start
    if (send({ t: 'event_join', event: ev.id })) joining = { id: ev.id, from };
  }

  function leaveEvent() {
    if (!attending) return;
    send({ t: 'event_leave' });
  }

  function cleanUp() {
    sound.stop();
    consent.close();
    upload.reset();
    attending = null;
    joining = null;
    you = null;
    consented = false;
    consentMode = null;
    answered = { invite: false, ask: false };
    stage = { speakers: [], slide: null };
    lastCaption = null;
    panel.clearCaptions();
    panel.error('');
    questions.clear();
    host.setMode({ host: false, captions: false });
    host.setHands([]);
    host.setStage(stage);
    host.setUpload(upload);
    screen.hide();
    renderPanel();
    people.render();
  }

  function ensurePublishing() {
    if (!attending || sound.rtc.publishing) return;
    if (!you?.muted) sound.setMicOn(true);
    sound.publish();
  }

  function answerInvitation(accept) {
    const mode = consentMode;
    consentMode = null;
    if (!attending) return;
    if (mode) answered[mode] = true;
    if (mode === 'invite') send({ t: 'event_accept', accept });
    if (accept) {
      consented = true;
      if (you?.speaker) ensurePublishing();
    }
    renderPanel();
    // The control that opened the dialog may be gone (the hand, once on stage): the panel then.
    if (!document.activeElement || document.activeElement === document.body) panel.focus();
  }

  // --- schedule board: click, Enter in front of it ------------------------------------------------------------
  function openSchedule() {
    if (!app.inHall) return;
    schedulePanel.hidden = false;
    schedulePanel.scrollIntoView?.({ block: 'nearest' });
    scheduleHeading.focus();
  }
  const canvas = app.view.canvas;
  canvas.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && near && app.inHall && !e.repeat) {
      e.preventDefault();
      openSchedule();
    }
  });
  onFloorClick(canvas, (x, y) => {
    if (app.inHall && board.hit(x, y)) openSchedule();
  });

  // --- lifecycle -------------------------------------------------------------------------------------------------
  app.onWelcome((msg) => {
    board.setWorld(app.world);
    screen.setWorld(app.world);
    tz = app.world?.timezone || tz;
    if (!msg.resumed) cleanUp();
    renderSchedulePanel();
  });
  app.onJoined((msg) => {
    zone = msg.zone;
    zoneSince = performance.now();
    clearTimeout(offerTimer);
    offerTimer = setTimeout(checkOffer, OFFER_DELAY_MS);
    send({ t: 'event_schedule' });
    clearInterval(refresher);
    refresher = setInterval(() => { if (app.inHall) send({ t: 'event_schedule' }); }, REFRESH_MS);
    renderAll();
  });
  app.onLeft(() => {
    clearInterval(refresher);
    refresher = null;
    cleanUp();
    offer = null;
    near = false;
    zone = null;
    renderAll();
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
      scheduleNear.hidden = !near;
      if (near) app.announce(t('events.board.near'));
      renderXr();
    }
  });
  app.onLanguage(() => renderAll());

  let peopleTimer = null;
  const peopleChanged = () => {
    if (!attending || peopleTimer) return;
    peopleTimer = setTimeout(() => {
      peopleTimer = null;
      people.render();
      host.renderWho();
    }, 500);
  };
  app.others.addEventListener('enter', peopleChanged);
  app.others.addEventListener('leave', peopleChanged);

  // --- messages ------------------------------------------------------------------------------------------------------
  const mine = (msg) => attending && (msg.event ?? msg.e) === attending.event.id;

  app.on('zone', (msg) => {
    const entered = msg.zone === eventZone() && zone !== msg.zone;
    if (zone !== msg.zone) zoneSince = performance.now();
    zone = msg.zone;
    clearTimeout(offerTimer);
    if (entered) {
      send({ t: 'event_schedule' });
      offerTimer = setTimeout(checkOffer, OFFER_DELAY_MS);
    }
    checkOffer();
  });

  app.on('event_schedule', (msg) => {
    tz = msg.tz || tz;
    list.set(msg.events, msg.tz);
    if (attending) {
      const ev = list.byId(attending.event.id);
      if (ev) attending.event = ev;
    }
    renderSchedulePanel();
    checkOffer();
  });

  app.on('event_info', (msg) => {
    list.update(msg.event);
    if (msg.event.host) create.created(msg.event);
    if (attending && msg.event.id === attending.event.id) {
      attending.event = msg.event;
      renderPanel();
    }
    renderSchedulePanel();
    checkOffer();
  });

  app.on('event_reminder', (msg) => {
    list.update(msg.event);
    app.notice(t('events.reminder', { title: eventTitle(msg.event) }));
    renderSchedulePanel();
    checkOffer();
  });

  app.on('event_joined', (msg) => {
    if (attending && attending.event.id === msg.event.id) {
      // The same event again: a move to another room (event_move's answer).
      attending = { ...attending, event: msg.event, instance: msg.instance, counts: msg.counts || [], host: Boolean(msg.host) };
      host.setCounts(attending.counts);
      renderPanel();
      return;
    }
    const from = joining?.from;
    joining = null;
    attending = { event: msg.event, instance: msg.instance, counts: msg.counts || [], host: Boolean(msg.host) };
    list.update(msg.event);
    offer = null;
    renderOffer();
    host.setMode({ host: attending.host, captions: CAPTION_ROLES.includes(app.role) });
    host.setCounts(attending.counts);
    screen.show({ title: eventTitle(msg.event), slide: stage.slide });
    renderPanel();
    people.render();
    renderSchedulePanel();
    app.announce(t('events.joined', { title: eventTitle(msg.event), room: instanceLabel(msg.instance, msg.counts) }));
    if (from) panel.focus();
    sound.listen();
    if (attending.host) ensurePublishing();
  });

  app.on('event_left', (msg) => {
    if (attending && msg.event !== attending.event.id) return;
    const title = attending ? eventTitle(attending.event) : '';
    const back = document.activeElement && attendRoot.contains(document.activeElement);
    cleanUp();
    renderSchedulePanel();
    // Leaving by choice needs only a word; an end, a cancellation or a host's action is shown
    // in the client's language (with the host's own reason for a kick or a ban).
    const code = msg.code || 'left';
    if (code === 'ended' || code === 'cancelled') app.notice(t(`events.left_${code}`, { title }));
    else if (code === 'kicked' || code === 'banned') {
      app.notice(t(`events.left_${code}`, { title, reason: msg.reason || '' }));
    } else app.announce(t('events.left', { title }));
    if (back) canvas.focus();
    checkOffer();
  });

  app.on('event_counts', (msg) => {
    if (!mine(msg)) return;
    attending.counts = msg.counts || [];
    host.setCounts(attending.counts);
    renderPanel();
  });

  app.on('event_stage', (msg) => {
    if (!mine(msg)) return;
    const before = stage.slide?.deck;
    stage = { speakers: msg.speakers || [], slide: msg.slide ?? null };
    if (stage.slide && stage.slide.deck !== before) upload.finished();
    else if (stage.slide && upload.state === 'rendering') upload.finished();
    host.setStage(stage);
    screen.show({ title: eventTitle(attending.event), slide: stage.slide });
    renderPanel();
    people.render();
  });

  app.on('event_you', (msg) => {
    if (!mine(msg)) return;
    const was = you;
    you = msg;
    if (!msg.invited) answered.invite = false;
    if (!msg.speaker) answered.ask = false;
    if (msg.invited && !msg.speaker) {
      if (!answered.invite && (!consent.isOpen || consentMode !== 'invite')) {
        consentMode = 'invite';
        consent.open({ seconds: msg.invited, title: eventTitle(attending.event) });
      }
    } else if (!msg.speaker && consent.isOpen) {
      consentMode = null;
      consent.close(); // the invitation went away
    }
    if (msg.speaker) {
      if (attending.host || consented) ensurePublishing();
      else if (!consent.isOpen && !answered.ask) {
        consentMode = 'ask';
        consent.open({ seconds: 0, title: eventTitle(attending.event), ask: true });
      }
      if (msg.muted && !was?.muted) {
        sound.setMicOn(false);
        app.announce(t('events.speak.muted_by_host'));
      } else if (!msg.muted && was?.muted) {
        app.announce(t('events.speak.unmuted_by_host'));
      }
    } else if (!attending.host) {
      if (was?.speaker) app.announce(t('events.speak.ended'));
      consented = false;
      sound.unpublish();
    }
    renderPanel();
  });

  app.on('event_hands', (msg) => { if (mine(msg)) host.setHands(msg.queue); });
  app.on('event_questions', (msg) => { if (mine(msg)) questions.set(msg.questions); });
  app.on('event_question', (msg) => { if (mine(msg)) questions.update(msg.question); });
  app.on('event_caption', (msg) => {
    if (!mine(msg)) return;
    lastCaption = { text: msg.text, final: msg.final, ts: msg.ts };
    panel.caption(msg);
  });
  app.on('event_upload', (msg) => upload.accepted(msg));
  app.on('event_rtc_answer', (msg) => sound.answer(msg.mode, msg.sdp));
  app.on('event_audio', (msg) => { if (mine(msg)) sound.audio(msg); });
  app.on('blocked', (msg) => people.setBlocked(msg.ids));
  app.on('reported', (msg) => people.reported(msg.id));

  // --- errors, next to their control --------------------------------------------------------------------------------------
  const text = (msg) => app.errorText(msg.code);
  app.onError('event_join', (msg) => {
    const from = joining?.from;
    joining = null;
    if (from === 'offer' && offer) {
      offerError.textContent = text(msg);
      return true;
    }
    return list.error(msg, text(msg));
  });
  for (const ref of ['event_register', 'event_cancel', 'event_schedule']) app.onError(ref, (msg) => list.error(msg, text(msg)));
  app.onError('event_create', (msg) => create.error(msg, text(msg)));
  for (const ref of PANEL_REFS) {
    app.onError(ref, (msg) => {
      if (!attending) return false;
      panel.error(text(msg));
      return true;
    });
  }
  app.onError('event_rtc_offer', (msg) => {
    if (sound.refused(msg.code)) return true;
    if (!attending) return false;
    panel.error(text(msg));
    renderPanel();
    return true;
  });
  for (const ref of ['event_ask', 'event_vote', 'event_answered']) app.onError(ref, (msg) => questions.error(msg, text(msg)));
  for (const ref of HOST_REFS) {
    app.onError(ref, (msg) => {
      if (ref.startsWith('event_slides_')) upload.failed(msg.code);
      return host.error(msg, text(msg));
    });
  }
  for (const ref of ['block', 'report']) app.onError(ref, (msg) => people.error(msg, text(msg)));

  // --- the test hook --------------------------------------------------------------------------------------------------------
  window.__events = { level: (speaker) => sound.level(speaker) };
  app.expose(() => ({
    events: {
      schedule: list.snapshot(),
      tz,
      offer: offer?.id ?? null,
      near,
      attending: attending ? {
        event: attending.event.id, instance: attending.instance, host: attending.host,
        counts: attending.counts.map((c) => ({ ...c })),
      } : null,
      you: you ? { hand: you.hand, speaker: you.speaker, muted: you.muted, invited: you.invited ?? null } : null,
      stage: { speakers: stage.speakers.map((p) => ({ id: p.id, name: p.name })), slide: stage.slide ? { ...stage.slide } : null },
      screen: screen.state(),
      sound: sound.snapshot(),
      level: sound.level(),
      consent: { open: consent.isOpen, mode: consentMode, consented, xr: xrConsent.state() },
      questions: questions.snapshot(),
      caption: lastCaption,
      host: host.snapshot(),
      people: people.snapshot(),
      board: { drawn: board.drawn, kind: board.kind },
      xr: xrPanel.state(),
    },
  }), {
    eventsRtcStats: () => sound.rtc.stats(),
    eventsScreenPixel: () => screen.pixel(),
    eventsBoardPoint: () => board.screenPoint(),
  });
}

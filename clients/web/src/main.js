// The page: wires the connection, the view, movement, chat and panels together.
// Each piece lives in its own module; this one only routes messages and events.
//
// Test hook: window.servicepoint.state() returns what the page currently knows
// ({connected, state, selfId, role, zone, self, others, chatLog, view, lang,
//   ticket, called, call, voice, staff, deskLog});
// window.servicepoint.voiceStats() resolves to the desk call's WebRTC stats.

import { getLanguage, initialLanguage, onLanguageChange, setLanguage, t } from './i18n.js';
import { Net } from './net.js';
import { CATALOGUE } from './protocol/catalogue.js';
import { Others } from './others.js';
import { KeyboardInput, onFloorClick } from './input.js';
import { LocalAvatar, MoveSender } from './movement.js';
import { ChatPanel } from './chat.js';
import { JoinForm, PlacesList, StatusLine, closeReason, setupLanguageSelects } from './ui.js';
import { decodeFrame } from './protocol/frames.js';
import { createView3d, probeWebGL } from './scene3d.js';
import { createView2d } from './view2d.js';
import { setupXR } from './xr.js';
import { findPath } from './path.js';
import { DeskVoice } from './voice.js';
import { ServicePanel } from './kiosk.js';
import { CalledPanel, TicketPanel } from './ticket.js';
import { CallBar } from './callbar.js';
import { StaffConsole } from './staff.js';
import { deskById, deskName } from './world.js';

const $ = (id) => document.getElementById(id);

setLanguage(initialLanguage());
setupLanguageSelects();

// --- the view: 3D when WebGL works, else a top-down map ---------------------
const canvas = $('view');
let view;
const webgl = probeWebGL();
if (webgl) {
  view = createView3d(canvas, webgl);
} else {
  canvas.dataset.i18nAttr = 'aria-label:view.label2d';
  canvas.setAttribute('aria-label', t('view.label2d'));
  $('view-fallback').hidden = false;
  view = createView2d(canvas);
}

// --- state -------------------------------------------------------------------
const net = new Net({ lang: getLanguage });
const others = new Others();
const keys = new KeyboardInput(window);
let world = null;
let local = null;
let moves = null;
let self = null; // {id, name, role, color, avatar}
let role = null;
let zone = null;
let joinParams = null;
let focusOnJoin = false;
let lastError = { code: null, at: 0 };

const status = new StatusLine();
const announcer = $('announcer');
const announce = (text) => { announcer.textContent = ''; setTimeout(() => { announcer.textContent = text; }, 50); };

const chat = new ChatPanel(
  {
    form: $('chat-form'), input: $('chat-input'), log: $('chat-log'), lines: $('chat-lines'),
    history: $('chat-history'), empty: $('chat-empty'),
    scopeInputs: [...document.querySelectorAll('#chat-form input[name=scope]')],
  },
  {
    send: (scope, text) => (scope === 'announce' ? net.send({ t: 'announce', text }) : net.send({ t: 'chat', scope, text })),
  },
);

// --- the live service at desks ----------------------------------------------
const isStaff = () => role === 'staff' || role === 'admin';
const voice = new DeskVoice({ send: (m) => net.send(m), audio: $('call-audio') });
const servicePanel = new ServicePanel({ send: (m) => net.send(m), errorText });
const ticketPanel = new TicketPanel({ send: (m) => net.send(m), errorText });
const calledPanel = new CalledPanel({ send: (m) => net.send(m), walk: (x, z) => walkAround(x, z), errorText });
const callBar = new CallBar({ send: (m) => net.send(m), voice, selfId: () => self?.id ?? null, errorText, announce });
const staffConsole = new StaffConsole({
  send: (m) => net.send(m),
  people: () => [...others.all.values()].map((o) => ({ id: o.id, name: o.name, role: o.role })),
  selfId: () => self?.id ?? null,
  errorText,
  announce,
});
calledPanel.onWalking = (desk) => announce(t('called.walking', { desk }));
ticketPanel.onDismiss = () => { renderDeskPanels(); $('service-take').focus(); };

/** Which desk panels show: the staff console for staff, the kiosk and ticket for others. */
function renderDeskPanels() {
  const inWorld = Boolean(self);
  staffConsole.show(inWorld && isStaff());
  $('service-panel').hidden = !(inWorld && !isStaff() && !ticketPanel.active);
  ticketPanel.render();
  if (!inWorld) $('ticket-panel').hidden = true;
}

function resetDesk() {
  calledPanel.hide();
  callBar.end();
  voice.stop();
  ticketPanel.clear();
  staffConsole.reset();
  renderDeskPanels();
}

const placesList = new PlacesList((place) => {
  if (!walkAround(place.x, place.z)) return;
  announce(t('places.walking', { place: place.label }));
  // A desk's "walk to" also opens its ticket kiosk (for people who take tickets).
  if (place.desk && !isStaff() && !ticketPanel.active) {
    const desk = deskById(world, place.desk);
    if (servicePanel.pickDesk(place.desk)) announce(t('service.opened', { desk: deskName(desk) }));
  } else if (servicePanel.kiosk?.source === 'picked') {
    servicePanel.setKiosk(null);
  }
});

const joinForm = new JoinForm(({ name, color, avatar, token }) => {
  joinParams = { name, color, avatar };
  focusOnJoin = true;
  joinForm.setBusy(true);
  net.forget();
  net.start({ token, join: joinParams });
});

// A staff token may come in the link (?token=...); keep it out of the address bar.
{
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  if (token) {
    joinForm.setToken(token);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  }
}

// --- panels ------------------------------------------------------------------
function showInWorld(inWorld) {
  $('join-panel').hidden = inWorld;
  $('chat-panel').hidden = !inWorld;
  $('places-panel').hidden = !inWorld;
  $('leave-button').hidden = !inWorld;
  $('skip-chat').hidden = !inWorld;
  renderDeskPanels();
}

function leaveWorld() {
  moves?.stop();
  resetDesk();
  others.reset();
  view.clearAvatars();
  self = null;
  zone = null;
  others.selfId = null;
  status.setLatency(null);
}

$('leave-button').addEventListener('click', () => {
  net.leave();
  leaveWorld();
  chat.clear();
  showInWorld(false);
  joinForm.setBusy(false);
  $('join-name').focus();
});

// --- connection --------------------------------------------------------------
net.addEventListener('state', (e) => {
  const d = e.detail;
  status.set(d);
  if (d.state === 'closed') {
    leaveWorld();
    chat.clear();
    showInWorld(false);
    joinForm.setBusy(false);
    joinForm.showText(closeReason(d));
  } else if (d.state === 'reconnecting') {
    moves?.stop();
  }
});

function errorText(code) {
  const key = `error.${code}`;
  const s = t(key);
  return s === key ? t('error.generic', { code }) : s;
}

// Where an error about a desk action is shown: next to the control that caused it.
const errorPanels = {
  take_ticket: () => servicePanel,
  leave_queue: () => ticketPanel,
  respond: () => calledPanel,
  duty: () => staffConsole,
  call_next: () => staffConsole,
  auto_call: () => staffConsole,
  transfer: () => staffConsole,
  close_case: () => staffConsole,
  invite: () => staffConsole,
  desk_say: () => callBar,
  mute: () => callBar,
  hangup: () => callBar,
  rtc_offer: () => callBar,
};

function deskError(msg) {
  const panel = errorPanels[msg.ref]?.();
  if (!panel) return false;
  if (msg.ref === 'rtc_offer') voice.refused();
  if (msg.ref === 'auto_call') staffConsole.renderDuty(); // undo the checkbox
  const shown = {
    take_ticket: () => !$('service-panel').hidden,
    leave_queue: () => ticketPanel.visible,
    respond: () => calledPanel.visible,
  }[msg.ref]?.() ?? (panel === callBar ? callBar.active : !$('staff-panel').hidden);
  if (!shown) return false;
  panel.showError(msg.code);
  return true;
}

const handlers = {
  welcome(msg) {
    // A fresh session (not a resume) starts without ticket or call; staff are
    // always off duty after a reconnect (the server ends duty with the connection).
    if (!msg.resumed) resetDesk();
    role = msg.role;
    world = msg.world;
    if (isStaff()) staffConsole.reset();
    view.setWorld(world);
    placesList.setWorld(world);
    servicePanel.setWorld(world);
    ticketPanel.setWorld(world);
    calledPanel.setWorld(world);
    callBar.setWorld(world);
    staffConsole.setWorld(world);
    local = new LocalAvatar(world, Number(msg.limits?.max_speed) || 4);
    moves?.stop();
    moves = new MoveSender((m) => net.send(m), msg.tick_hz);
    others.reset(msg.tick_hz);
    view.clearAvatars();
  },
  joined(msg) {
    const params = joinParams ?? net.joinParams ?? {};
    self = { id: msg.id, name: msg.name, role, color: params.color, avatar: params.avatar };
    others.selfId = msg.id;
    chat.allowAnnounce(CATALOGUE.client.announce?.roles.includes(role) ?? false);
    local.place(msg.x, msg.z, msg.yaw);
    view.addAvatar({ ...self, x: msg.x, z: msg.z, yaw: msg.yaw }, true);
    zone = msg.zone;
    status.setZone(zone);
    moves.start(local, () => advanceLocal(performance.now() / 1000));
    showInWorld(true);
    joinForm.setBusy(false);
    joinForm.showError(null);
    chat.notice(t('chat.joined', { name: msg.name }));
    if (focusOnJoin) {
      focusOnJoin = false;
      canvas.focus();
    }
  },
  enter(msg) { others.enter(msg.e, performance.now() / 1000); },
  leave(msg) { others.leave(msg.ids); },
  f(msg) {
    const frame = decodeFrame(msg);
    if (frame) others.frame(frame, performance.now() / 1000);
  },
  chat(msg) { chat.line(msg); },
  history(msg) { chat.history(msg.items); },
  announce(msg) { chat.announce(msg); },
  correct(msg) {
    if (!local) return;
    local.snap(msg.x, msg.z, msg.yaw);
    moves?.corrected(local.x, local.z, local.yaw);
  },
  zone(msg) {
    zone = msg.zone;
    status.setZone(zone);
  },
  pong() { status.setLatency(net.rttMs); },
  ticket(msg) {
    ticketPanel.update(msg);
    if (msg.status !== 'called') calledPanel.hide();
    if (msg.status === 'waiting' && servicePanel.kiosk) servicePanel.setKiosk(null);
    renderDeskPanels();
  },
  called(msg) {
    calledPanel.show(msg);
  },
  call(msg) {
    callBar.update(msg);
    staffConsole.callMsg(msg);
    if (msg.active) {
      ticketPanel.serving();
      calledPanel.hide();
    }
    renderDeskPanels();
  },
  rtc_answer(msg) { voice.answer(msg.sdp); },
  desk_say(msg) { callBar.say(msg); },
  duty(msg) { staffConsole.duty(msg); },
  case(msg) { staffConsole.caseMsg(msg); },
  queue(msg) { staffConsole.queue(msg); },
  error(msg) {
    if (net.state !== 'joined') {
      joinForm.showText(errorText(msg.code));
      return;
    }
    if (deskError(msg)) return;
    const now = performance.now();
    if (msg.code === lastError.code && now - lastError.at < 5000) return;
    lastError = { code: msg.code, at: now };
    chat.notice(errorText(msg.code));
  },
};

net.addEventListener('message', (e) => handlers[e.detail.t]?.(e.detail));

others.addEventListener('enter', (e) => {
  for (const o of e.detail) view.addAvatar({ ...o, ...o.buffer.last });
  staffConsole.renderInvite();
});
others.addEventListener('leave', (e) => {
  for (const id of e.detail) view.removeAvatar(id);
  staffConsole.renderInvite();
});

// --- movement ----------------------------------------------------------------
/** Walk to (x, z) around walls (for "walk to" places and VR teleports). */
function walkAround(x, z) {
  if (!local || !world || net.state !== 'joined') return false;
  const route = findPath(world, { x: local.x, z: local.z }, { x, z });
  if (route) local.walkRoute(route);
  else local.walkTo(x, z);
  return true;
}

function advanceLocal(nowS) {
  if (!local || !self || net.state !== 'joined') {
    if (local) local.lastS = nowS;
    return;
  }
  local.advance(nowS, keys.axes());
}

onFloorClick(canvas, (x, y) => {
  const hit = view.pick(x, y);
  if (hit && local && net.state === 'joined') local.walkTo(hit.x, hit.z);
});

let xr = null;
setupXR({
  view,
  button: $('vr-button'),
  onTeleport: (x, z) => walkAround(x, z),
  onPresenting: (on) => {
    $('vr-help').hidden = !on;
    if (self) view.setSelfVisible(!on, self.id);
  },
}).then((x) => { xr = x; });

view.start((nowS) => {
  advanceLocal(nowS);
  if (self && local) {
    view.setPose(self.id, local.x, local.z, local.yaw);
    view.follow(local.x, local.z, local.yaw);
    if (!$('service-panel').hidden) servicePanel.near(local.x, local.z);
  }
  const rt = others.renderTime(nowS);
  for (const [id, o] of others.all) {
    const p = o.buffer.sample(rt);
    view.setPose(id, p.x, p.z, p.yaw);
  }
  xr?.update();
});

onLanguageChange(() => {
  view.relabel();
  xr?.relabel();
});

// --- start: resume this tab's session after a reload -------------------------
showInWorld(false);
const stored = Net.stored();
if (stored?.resume && stored.join?.name) {
  joinParams = stored.join;
  joinForm.setBusy(true);
  net.start({ token: stored.token, join: stored.join, resume: stored.resume });
}

// --- test hook -----------------------------------------------------------------
window.servicepoint = {
  state: () => ({
    connected: net.state === 'joined',
    state: net.state,
    selfId: self?.id ?? null,
    role,
    zone,
    self: local && self ? { x: local.x, z: local.z, yaw: local.yaw } : null,
    walkingTo: local?.route.length ? { ...local.route.at(-1) } : null,
    others: others.snapshot(),
    chatLog: chat.entries.map((e) => ({ ...e })),
    view: view.kind,
    lang: getLanguage(),
    ticket: ticketPanel.state(),
    called: calledPanel.state(),
    call: callBar.state(),
    voice: { state: voice.state, mic: voice.mic, muted: voice.muted, joined: voice.joined },
    staff: staffConsole.state(),
    deskLog: callBar.log.map((e) => ({ ...e })),
    kiosk: servicePanel.kioskDesk,
  }),
  voiceStats: () => voice.stats(),
};

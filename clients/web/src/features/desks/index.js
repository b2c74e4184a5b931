// The live service at desks: the kiosk / service picker, the citizen's queue
// ticket and "It's your turn", the in-call bar (members, voice state, desk text),
// and the staff console for staff and admins.
//
// Messages: ticket, called, call, desk_say, duty, case, queue (and desk_board: board.js).
// Errors shown next to their control: take_ticket, leave_queue, respond, duty,
// call_next, auto_call, transfer, close_case, invite, desk_say (and, through the
// voice service, rtc_offer, mute, hangup in the call bar).
// In a VR session the same kiosk, ticket, call and desk call show on a panel in the
// world (xr-panel.js).
// Needs: 'voice'. Test hook: ticket, called, call, staff, deskLog, kiosk, deskXr.

import { t } from '../../core/i18n.js';
import { deskById, deskName } from '../../world.js';
import { installBoard } from './board.js';
import { CallBar } from './callbar.js';
import { watchDeskSpeaking } from './speaking.js';
import { ServicePanel } from './kiosk.js';
import { StaffConsole } from './staff.js';
import { CalledPanel, TicketPanel } from './ticket.js';
import { createDeskXrPanel } from './xr-panel.js';

export const name = 'desks';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);

export function install(app) {
  const voice = app.service('voice');
  const send = (m) => app.send(m);
  const errorText = (code) => app.errorText(code);
  const announce = (text) => app.announce(text);
  const selfId = () => app.self?.id ?? null;

  const servicePanel = new ServicePanel({ send, errorText });
  const ticketPanel = new TicketPanel({ send, errorText });
  const calledPanel = new CalledPanel({ send, walk: (x, z) => app.walk(x, z), errorText });
  const callBar = new CallBar({ send, voice, selfId, errorText, announce });
  watchDeskSpeaking(app, voice, callBar); // who in the call is heard: the view's speaking indicator
  const staffConsole = new StaffConsole({
    send,
    people: () => [...app.others.all.values()].map((o) => ({ id: o.id, name: o.name, role: o.role })),
    selfId,
    errorText,
    announce,
  });
  calledPanel.onWalking = (desk) => announce(t('called.walking', { desk }));
  ticketPanel.onDismiss = () => { render(); $('service-take').focus(); };
  const xrPanel = createDeskXrPanel({
    service: servicePanel, ticket: ticketPanel, called: calledPanel, callBar, selfId,
    shown: () => Boolean(app.self) && !app.isStaff,
  });

  /** Which panels show: the staff console for staff, the kiosk and ticket for others. */
  function render() {
    const inWorld = Boolean(app.self);
    staffConsole.show(inWorld && app.isStaff);
    $('service-panel').hidden = !(inWorld && !app.isStaff && !ticketPanel.active);
    ticketPanel.render();
    if (!inWorld) $('ticket-panel').hidden = true;
  }

  function reset() {
    calledPanel.hide();
    callBar.end();
    ticketPanel.clear();
    staffConsole.reset();
    render();
  }

  // --- lifecycle -----------------------------------------------------------------
  app.onWelcome((msg) => {
    // A fresh session (not a resume) starts without ticket or call; staff are
    // always off duty after a reconnect (the server ends duty with the connection).
    if (!msg.resumed) reset();
    if (app.isStaff) staffConsole.reset();
    for (const panel of [servicePanel, ticketPanel, calledPanel, callBar, staffConsole]) panel.setWorld(app.world);
  });
  app.onJoined(render);
  app.onLeft(reset);
  app.onFrame(() => {
    const local = app.local;
    if (app.self && local && !$('service-panel').hidden) servicePanel.near(local.x, local.z);
    xrPanel.tick();
  });
  // A desk's "walk to" also opens its ticket kiosk (for people who take tickets).
  app.onPlace((place) => {
    if (place.desk && !app.isStaff && !ticketPanel.active) {
      const desk = deskById(app.world, place.desk);
      if (servicePanel.pickDesk(place.desk)) announce(t('service.opened', { desk: deskName(desk) }));
    } else if (servicePanel.kiosk?.source === 'picked') {
      servicePanel.setKiosk(null);
    }
  });
  app.others.addEventListener('enter', () => staffConsole.renderInvite());
  app.others.addEventListener('leave', () => staffConsole.renderInvite());

  // --- messages --------------------------------------------------------------------
  app.on('ticket', (msg) => {
    ticketPanel.update(msg);
    if (msg.status !== 'called') calledPanel.hide();
    if (msg.status === 'waiting' && servicePanel.kiosk) servicePanel.setKiosk(null);
    render();
  });
  app.on('called', (msg) => calledPanel.show(msg));
  app.on('call', (msg) => {
    callBar.update(msg);
    staffConsole.callMsg(msg);
    if (msg.active) {
      ticketPanel.serving();
      calledPanel.hide();
    }
    render();
  });
  app.on('desk_say', (msg) => callBar.say(msg));
  app.on('duty', (msg) => staffConsole.duty(msg));
  app.on('case', (msg) => staffConsole.caseMsg(msg));
  app.on('queue', (msg) => staffConsole.queue(msg));

  // --- errors next to the control that caused them ------------------------------------
  const shownIn = (panel, visible) => (msg) => {
    if (!visible()) return false;
    panel.showError(msg.code);
    return true;
  };
  const staffVisible = () => !$('staff-panel').hidden;
  app.onError('take_ticket', shownIn(servicePanel, () => !$('service-panel').hidden));
  app.onError('leave_queue', shownIn(ticketPanel, () => ticketPanel.visible));
  app.onError('respond', shownIn(calledPanel, () => calledPanel.visible));
  app.onError('auto_call', (msg) => {
    staffConsole.renderDuty(); // undo the checkbox
    return shownIn(staffConsole, staffVisible)(msg);
  });
  for (const ref of ['duty', 'call_next', 'transfer', 'close_case', 'invite']) {
    app.onError(ref, shownIn(staffConsole, staffVisible));
  }
  app.onError('desk_say', shownIn(callBar, () => callBar.active));

  app.expose(() => ({
    ticket: ticketPanel.state(),
    called: calledPanel.state(),
    call: callBar.state(),
    staff: staffConsole.state(),
    deskLog: callBar.log.map((e) => ({ ...e })),
    kiosk: servicePanel.kioskDesk,
    deskXr: xrPanel.state(),
  }));

  installBoard(app); // the public queue display: desk signs, the hall's board, "Now serving"
}

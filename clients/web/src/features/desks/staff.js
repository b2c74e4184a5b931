// The staff console (roles staff and admin): duty at a desk, auto-call, the
// queue per service, "Call next", the current citizen, transfer, close with
// outcome and notes, and inviting a third person into the desk call.
//
//   const console = new StaffConsole({ send, people: () => [{id, name, role}], selfId, errorText, announce });
//   console.duty(msg); console.caseMsg(msg); console.queue(msg); console.callMsg(msg);
//
// Case notes are typed here and sent with close_case; the server keeps them
// for staff only and never sends them to a citizen.

import { has, langName, localName, onLanguageChange, t } from '../../core/i18n.js';
import { deskById, deskLetters, deskName, serviceLabel } from '../../world.js';
import { duration } from './duration.js';

const $ = (id) => document.getElementById(id);
const OPEN_CASE = new Set(['called', 'serving']);
/** Waiting times in the queue list are re-drawn this often (they are not announced). */
const REFRESH_MS = 15_000;

function option(value, text, lang) {
  const opt = document.createElement('option');
  opt.value = value;
  opt.textContent = text;
  if (lang) opt.lang = lang;
  return opt;
}

export class StaffConsole {
  constructor({ send, people, selfId, errorText, announce }) {
    this.send = send;
    this.people = people;
    this.selfId = selfId;
    this.errorText = errorText;
    this.announce = announce;
    this.panel = $('staff-panel');
    this.world = null;
    this.dutyState = { status: 'off', auto: false }; // the last `duty`
    this.case = null; // the last `case` while it is open
    this.queueState = null; // the last `queue`, with the local time it came
    this.callMembers = [];
    this.rostered = null; // the desks a sign-in roster allows (null: any desk)
    this.errorCode = null;
    this.timer = null;

    $('duty-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const status = $('duty-form').querySelector('input[name=duty-status]:checked')?.value || 'available';
      const msg = { t: 'duty', status };
      if (status !== 'off') msg.desk = $('duty-desk').value;
      this.act(msg);
    });
    $('auto-call').addEventListener('change', (e) => this.act({ t: 'auto_call', on: e.target.checked }));
    $('call-next').addEventListener('click', () => this.act({ t: 'call_next' }));
    $('close-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const outcome = $('close-form').querySelector('input[name=outcome]:checked')?.value || 'resolved';
      const msg = { t: 'close_case', outcome };
      const notes = $('close-notes').value.trim();
      if (notes) msg.notes = notes;
      if (this.act(msg)) $('close-notes').value = '';
    });
    $('transfer-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const msg = { t: 'transfer', service: $('transfer-service').value };
      const lang = $('transfer-lang').value;
      if (lang) msg.lang = lang;
      this.act(msg);
    });
    $('invite-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const id = Number($('invite-who').value);
      if (!id) return;
      const who = $('invite-who').selectedOptions[0]?.textContent ?? '';
      if (this.act({ t: 'invite', id })) this.announce?.(t('staff.invited', { name: who }));
    });
    // People come and go: refresh the choice when it is about to be used.
    $('invite-who').addEventListener('focus', () => this.renderInvite());
    onLanguageChange(() => {
      this.renderOptions();
      this.render();
      if (this.errorCode) this.showError(this.errorCode);
    });
  }

  /** Send an action, clearing an earlier error. */
  act(msg) {
    this.showError(null);
    return this.send(msg);
  }

  setWorld(world) {
    this.world = world;
    this.renderOptions();
    this.render();
  }

  show(visible) {
    this.panel.hidden = !visible;
    clearInterval(this.timer);
    this.timer = visible ? setInterval(() => this.renderQueue(), REFRESH_MS) : null;
  }

  reset() {
    this.dutyState = { status: 'off', auto: false };
    this.case = null;
    this.queueState = null;
    this.callMembers = [];
    if (this.rostered) {
      this.rostered = null;
      this.renderOptions();
    }
    this.showError(null);
    this.render();
  }

  // -- messages ------------------------------------------------------------

  duty(msg) {
    this.dutyState = { ...msg };
    // A sign-in roster names the desks one may work; without one, any desk.
    const rostered = Array.isArray(msg.desks) ? msg.desks : null;
    if (String(rostered) !== String(this.rostered)) {
      this.rostered = rostered;
      this.renderOptions();
    }
    if (msg.status === 'off') this.queueState = null; // only staff on duty are sent the queue
    if (msg.desk) $('duty-desk').value = msg.desk;
    const radio = $('duty-form').querySelector(`input[name=duty-status][value="${msg.status}"]`);
    if (radio) radio.checked = true;
    this.render();
  }

  caseMsg(msg) {
    if (OPEN_CASE.has(msg.status)) {
      const fresh = this.case?.ticket !== msg.ticket;
      this.case = { ...msg };
      if (fresh) {
        $('close-notes').value = '';
        const first = $('close-form').querySelector('input[name=outcome][value=resolved]');
        if (first) first.checked = true;
        // A transfer goes elsewhere: offer another service than this one first.
        const other = (this.world?.services || []).find((sv) => sv.id !== msg.service);
        if (other) $('transfer-service').value = other.id;
        $('transfer-lang').value = '';
        this.announce?.(t('staff.case_called', { ticket: msg.ticket, name: msg.name }));
      }
    } else if (this.case?.ticket === msg.ticket) {
      this.case = null;
      this.announce?.(t('staff.case_ended', { ticket: msg.ticket, status: t(`staff.case.${msg.status}`) }));
    }
    this.render();
  }

  /** Our desk call: the citizen answered (the case is being served), or it ended. */
  callMsg(msg) {
    this.callMembers = msg.active ? msg.members.map((m) => m.id) : [];
    if (msg.active && this.case?.status === 'called') this.case.status = 'serving';
    this.render();
  }

  queue(msg) {
    this.queueState = { ...msg, at: performance.now() };
    this.renderQueue();
  }

  // -- drawing ---------------------------------------------------------------

  renderOptions() {
    const w = this.world;
    if (!w) return;
    const desk = $('duty-desk').value;
    const desks = (w.desks || []).filter((d) => !this.rostered || this.rostered.includes(d.id));
    $('duty-desk').replaceChildren(...desks.map((d) => option(d.id, `${deskName(d)} (${deskLetters(w, d)})`)));
    if (desks.some((d) => d.id === desk)) $('duty-desk').value = desk;
    const service = $('transfer-service').value;
    $('transfer-service').replaceChildren(...(w.services || []).map((s) => option(s.id, `${s.letter} ${localName(s.name)}`)));
    if (service) $('transfer-service').value = service;
    const lang = $('transfer-lang').value;
    $('transfer-lang').replaceChildren(
      option('', t('staff.same_lang')),
      ...(w.languages || []).map((code) => option(code, langName(code), code)),
    );
    $('transfer-lang').value = lang;
  }

  render() {
    this.renderDuty();
    this.renderCase();
    this.renderQueue();
    this.renderInvite();
  }

  renderDuty() {
    const d = this.dutyState;
    const on = d.status !== 'off';
    const desk = deskById(this.world, d.desk);
    const status = this.case ? t('staff.status.in_service') : t(`staff.status.${d.status}`);
    $('duty-now').textContent = on
      ? t('staff.duty_now', { status, desk: desk ? deskName(desk) : d.desk ?? '' })
      : t('staff.duty_off');
    this.panel.dataset.duty = d.status;
    $('auto-call').checked = Boolean(d.auto);
    $('auto-call').disabled = !on;
    $('call-next').disabled = !(d.status === 'available' && !this.case);
  }

  renderCase() {
    const c = this.case;
    $('case-none').hidden = Boolean(c);
    $('case-facts').hidden = !c;
    $('case-actions').hidden = !c;
    this.panel.dataset.case = c ? c.status : '';
    if (!c) return;
    $('case-ticket').textContent = c.ticket;
    $('case-name').textContent = c.name;
    if (c.verified) {
      // Staff see that the citizen proved who they are, never the identity itself.
      const mark = document.createElement('span');
      mark.className = 'verified-mark';
      mark.textContent = ` (${t('staff.case.verified')})`;
      $('case-name').append(mark);
    }
    $('case-service').textContent = serviceLabel(this.world, c.service);
    $('case-lang').textContent = langName(c.lang);
    $('case-status').textContent = t(`staff.case.${c.status}`);
    $('case-waited').textContent = duration(c.waited_s, 'short');
    $('invite-form').hidden = c.status !== 'serving';
  }

  renderQueue() {
    const view = $('queue-view');
    const q = this.queueState;
    const w = this.world;
    if (!q || !w) {
      view.replaceChildren(Object.assign(document.createElement('p'), { className: 'hint', textContent: t('staff.queue_empty') }));
      $('team-list').replaceChildren(Object.assign(document.createElement('li'), { textContent: t('staff.team_none') }));
      return;
    }
    const elapsed = (performance.now() - q.at) / 1000;
    const blocks = [];
    for (const s of w.services || []) {
      const tickets = q.tickets.filter((tk) => tk.service === s.id);
      const waiting = tickets.filter((tk) => tk.status === 'waiting').length;
      const h = document.createElement('h4');
      h.textContent = t('staff.queue_service', { letter: s.letter, service: localName(s.name), n: waiting });
      const ul = document.createElement('ul');
      ul.dataset.service = s.id;
      for (const tk of tickets) {
        const li = document.createElement('li');
        li.dataset.ticket = tk.ticket;
        const waited = tk.status === 'waiting' ? tk.waiting_s + elapsed : tk.waiting_s;
        li.textContent = [tk.ticket, langName(tk.lang), t(`queue.${tk.status}`), duration(waited, 'short')].join(' · ');
        ul.append(li);
      }
      if (!tickets.length) continue;
      blocks.push(h, ul);
    }
    if (!blocks.length) {
      blocks.push(Object.assign(document.createElement('p'), { className: 'hint', textContent: t('staff.queue_empty') }));
    }
    view.replaceChildren(...blocks);
    const team = q.staff.map((s) => {
      const li = document.createElement('li');
      const desk = deskById(w, s.desk);
      const key = `staff.status.${s.status}`;
      const status = has(key) ? t(key) : s.status;
      li.textContent = `${s.name}: ${desk ? deskName(desk) : s.desk}, ${status}`;
      return li;
    });
    $('team-list').replaceChildren(...(team.length ? team : [Object.assign(document.createElement('li'), { textContent: t('staff.team_none') })]));
  }

  /** People in view who are not already in the call. */
  renderInvite() {
    const select = $('invite-who');
    const keep = select.value;
    const skip = new Set([this.selfId(), ...this.callMembers]);
    const people = this.people().filter((p) => !skip.has(p.id)).sort((a, b) => a.name.localeCompare(b.name));
    const key = JSON.stringify([document.documentElement.lang, people.map((p) => [p.id, p.name, p.role])]);
    if (key === this.inviteKey) return; // unchanged: leave the control alone while it is used
    this.inviteKey = key;
    select.replaceChildren(...(people.length
      ? people.map((p) => option(String(p.id), p.role && p.role !== 'citizen' ? `${p.name} (${t(`role.${p.role}`)})` : p.name))
      : [option('', t('staff.invite_none'))]));
    if (people.some((p) => String(p.id) === keep)) select.value = keep;
    $('invite-submit').disabled = !people.length;
  }

  showError(code) {
    this.errorCode = code;
    $('staff-error').textContent = code ? this.errorText(code) : '';
  }

  state() {
    return {
      duty: { ...this.dutyState },
      case: this.case ? { ...this.case } : null,
      queue: this.queueState ? { tickets: this.queueState.tickets.map((x) => ({ ...x })), staff: this.queueState.staff.map((x) => ({ ...x })) } : null,
    };
  }
}

// The schedule: live and upcoming events as an accessible list (a heading per
// event, its time in the viewer's own zone and at the service point, its status,
// "Remind me" and, while it is live, "Join"), a link to the calendar file
// (/api/events/schedule.ics). The hall's panel and /events.html share it.
//
//   const list = new ScheduleList({ root, send, mode: 'hall' | 'page', level: 3,
//                                   onJoin(ev), attending: () => eventId | null, role: () => role });
//   list.set(events, tz);            // event_schedule
//   list.update(ev);                 // event_info / event_reminder
//   list.error(msg) -> bool          // an error about event_register / event_join / event_cancel
//   list.render(); list.snapshot();
//
// Sends: event_register, event_cancel (hosts). "Join" is the caller's (onJoin).

import { t } from '../../core/i18n.js';
import { h, keepFocus, say } from './dom.js';
import { eventDescription, eventTitle, eventWhen, eventWhenThere } from './format.js';

export const ICS_URL = '/api/events/schedule.ics';
const REFS = new Set(['event_register', 'event_join', 'event_cancel', 'event_schedule']);

/** Live by the clock, whatever the last status said (status changes come as event_info). */
export function isLive(ev, nowS = Date.now() / 1000) {
  if (ev.status === 'live') return true;
  return ev.status === 'scheduled' && nowS >= ev.starts && nowS < ev.ends;
}

export class ScheduleList {
  constructor({ root, send, mode = 'hall', level = 3, onJoin = null, attending = () => null, role = () => null }) {
    this.root = root;
    this.sendFn = send;
    this.mode = mode;
    this.level = level;
    this.onJoin = onJoin;
    this.attending = attending;
    this.role = role;
    this.events = null; // null: not loaded yet
    this.tz = null;
    this.errorText = '';
    this.errorEvent = null;
    this.pending = new Map(); // event id -> what we asked (register on/off)

    this.live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
    this.list = h('ol', { class: 'plain-list ev-schedule', 'aria-label': t('events.schedule.list') });
    this.empty = h('p', { class: 'hint ev-empty' });
    this.errorEl = h('p', { class: 'error', role: 'alert' });
    this.ics = h('a', { href: ICS_URL, class: 'ev-link', download: 'servicepoint-events.ics' });
    this.tzNote = h('p', { class: 'hint ev-tz' });
    root.append(this.live, this.tzNote, this.empty, this.list, this.errorEl, h('p', {}, this.ics));
  }

  send(msg) {
    return this.sendFn(msg);
  }

  set(events, tz) {
    this.events = [...(events || [])];
    this.tz = tz || this.tz;
    this.render();
  }

  update(ev) {
    if (!ev?.id) return;
    if (!this.events) this.events = [];
    const i = this.events.findIndex((e) => e.id === ev.id);
    if (i >= 0) this.events[i] = ev;
    else this.events.push(ev);
    this.events.sort((a, b) => a.starts - b.starts);
    this.pending.delete(ev.id);
    this.render();
  }

  byId(id) {
    return this.events?.find((e) => e.id === id) ?? null;
  }

  /** Events still to come or going on (ended and cancelled ones leave the list). */
  visible() {
    const now = Date.now() / 1000;
    return (this.events || []).filter((e) => e.status !== 'cancelled' && e.status !== 'ended' && e.ends > now);
  }

  liveEvents() {
    return this.visible().filter((e) => isLive(e));
  }

  register(ev, on) {
    if (this.send({ t: 'event_register', event: ev.id, on })) {
      this.pending.set(ev.id, on);
      this.showError(null);
      // The schedule comes back with `registered` set; until then, show what we asked.
      ev.registered = on;
      this.render();
      say(this.live, on ? t('events.registered', { title: eventTitle(ev) }) : t('events.unregistered', { title: eventTitle(ev) }));
      this.send({ t: 'event_schedule' });
    }
  }

  cancel(ev) {
    if (this.send({ t: 'event_cancel', event: ev.id })) this.send({ t: 'event_schedule' });
  }

  showError(text, eventId = null) {
    this.errorText = text || '';
    this.errorEvent = eventId;
    this.errorEl.textContent = this.errorText;
  }

  /** An error about one of our messages: shown under the list. True when shown. */
  error(msg, text) {
    if (!REFS.has(msg.ref)) return false;
    this.showError(text);
    return true;
  }

  renderEvent(ev) {
    const live = isLive(ev);
    const headingId = `ev-title-${this.mode}-${ev.id}`;
    const attending = this.attending() === ev.id;
    const when = eventWhen(ev);
    const there = eventWhenThere(ev);
    const status = live ? t('events.status.live') : t(`events.status.${ev.status}`);
    const actions = h('div', { class: 'actions' });
    if (live && this.mode === 'hall' && this.onJoin) {
      actions.append(attending
        ? h('p', { class: 'ev-attending' }, t('events.attending'))
        : h('button', { type: 'button', class: 'primary', dataset: { action: 'join', event: ev.id },
          'aria-describedby': headingId, onclick: () => this.onJoin(ev) }, t('events.join')));
    }
    if (live && this.mode === 'page') {
      actions.append(h('a', { href: '/', class: 'ev-link', dataset: { action: 'hall' } }, t('events.page.join_in_hall')));
    }
    if (!live) {
      actions.append(h('button', {
        type: 'button', class: 'secondary', 'aria-pressed': ev.registered ? 'true' : 'false',
        'aria-describedby': headingId, dataset: { action: 'register', event: ev.id },
        onclick: () => this.register(ev, !ev.registered),
      }, t('events.remind')));
    }
    if (ev.host && this.mode === 'hall') {
      actions.append(h('button', { type: 'button', class: 'secondary', dataset: { action: 'cancel', event: ev.id },
        'aria-describedby': headingId, onclick: () => this.cancel(ev) }, t('events.cancel')));
    }
    const heading = h(`h${this.level}`, { id: headingId, class: 'ev-title' }, eventTitle(ev));
    const description = eventDescription(ev);
    return h('li', { class: 'ev-item', dataset: { event: ev.id, status: live ? 'live' : ev.status } },
      h('article', { 'aria-labelledby': headingId },
        heading,
        h('p', { class: 'ev-when' },
          h('time', { datetime: new Date(ev.starts * 1000).toISOString() }, when)),
        there ? h('p', { class: 'hint ev-there' }, t('events.time.there', { time: there })) : null,
        h('p', { class: `ev-status${live ? ' ev-live' : ''}` },
          status,
          live ? ` · ${t('events.attendees', { n: ev.attendees || 0 })}` : '',
          ev.registered && !live ? ` · ${t('events.registered_short')}` : ''),
        description ? h('p', { class: 'ev-description' }, description) : null,
        actions));
  }

  render() {
    this.ics.textContent = t('events.ics');
    this.list.setAttribute('aria-label', t('events.schedule.list'));
    this.tzNote.textContent = this.tz ? t('events.time.zone_note', { tz: this.tz }) : '';
    this.tzNote.hidden = !this.tz;
    if (this.events === null) {
      this.empty.textContent = t('events.loading');
      this.empty.hidden = false;
      this.list.replaceChildren();
      return;
    }
    const shown = this.visible();
    this.empty.hidden = shown.length > 0;
    this.empty.textContent = t('events.none');
    keepFocus(this.list, () => this.list.replaceChildren(...shown.map((ev) => this.renderEvent(ev))));
  }

  snapshot() {
    return (this.events || []).map((e) => ({
      id: e.id, title: eventTitle(e), status: isLive(e) ? 'live' : e.status, registered: Boolean(e.registered),
      attendees: e.attendees ?? 0, host: Boolean(e.host), starts: e.starts, ends: e.ends,
    }));
  }
}

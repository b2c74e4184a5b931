// People at the event (on stage, and near one's seat): for each, "Block" (a
// toggle: neither sees the other's chat or hears the other's voice, kept by
// identity) and "Report" (a reason and an optional note, to the moderators).
// The server enforces blocks; the page only shows them.
//
//   const people = new PeopleList({ root, send, people: () => [{id, name, role}] });
//   people.setBlocked(ids); people.reported(id); people.error(msg, text) -> bool; people.render();
//
// Sends: block {id, on}, report {id, reason, text?}. Messages: blocked, reported.

import { t } from '../../core/i18n.js';
import { h, keepFocus, option, say } from './dom.js';
import { REPORT_REASONS } from './format.js';

const REFS = new Set(['block', 'report']);

export class PeopleList {
  constructor({ root, send, people }) {
    this.sendFn = send;
    this.people = people;
    this.blocked = new Set();
    this.reporting = null; // the person whose report form is open
    this.heading = h('h3', { id: 'ev-people-heading' });
    this.hint = h('p', { class: 'hint' });
    this.list = h('ul', { id: 'ev-people', class: 'plain-list ev-people', 'aria-labelledby': 'ev-people-heading' });
    this.empty = h('p', { class: 'hint' });
    this.live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
    this.errorEl = h('p', { class: 'error', role: 'alert' });

    this.reportLegend = h('legend', { id: 'ev-report-legend' });
    this.reasonLabel = h('label', { for: 'ev-report-reason' });
    this.reason = h('select', { id: 'ev-report-reason' });
    this.noteLabel = h('label', { for: 'ev-report-text' });
    this.note = h('textarea', { id: 'ev-report-text', rows: 2, maxlength: 500 });
    this.reportSend = h('button', { type: 'submit', id: 'ev-report-send', class: 'primary' });
    this.reportCancel = h('button', { type: 'button', id: 'ev-report-cancel', class: 'secondary' });
    this.reportForm = h('form', { id: 'ev-report', class: 'staff-form', hidden: true, novalidate: true },
      h('fieldset', {}, this.reportLegend,
        h('div', { class: 'field' }, this.reasonLabel, this.reason),
        h('div', { class: 'field' }, this.noteLabel, this.note),
        h('div', { class: 'actions' }, this.reportSend, this.reportCancel)));
    this.reportForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.sendReport();
    });
    this.reportCancel.addEventListener('click', () => this.closeReport(true));

    this.section = h('section', { id: 'ev-people-block', class: 'staff-block', 'aria-labelledby': 'ev-people-heading' },
      this.heading, this.hint, this.empty, this.list, this.reportForm, this.live, this.errorEl);
    root.append(this.section);
    this.render();
  }

  setBlocked(ids) {
    this.blocked = new Set(ids || []);
    this.render();
  }

  toggleBlock(p) {
    const on = !this.blocked.has(p.id);
    this.errorEl.textContent = '';
    if (this.sendFn({ t: 'block', id: p.id, on })) {
      if (on) this.blocked.add(p.id);
      else this.blocked.delete(p.id);
      say(this.live, t(on ? 'events.people.blocked' : 'events.people.unblocked', { name: p.name || '' }));
      this.render();
    }
  }

  openReport(p) {
    this.reporting = p;
    this.note.value = '';
    this.reportForm.hidden = false;
    this.renderReport();
    this.reason.focus();
  }

  closeReport(focusBack = false) {
    const p = this.reporting;
    this.reporting = null;
    this.reportForm.hidden = true;
    if (focusBack && p) this.list.querySelector(`[data-action="report"][data-id="${p.id}"]`)?.focus();
  }

  sendReport() {
    const p = this.reporting;
    if (!p) return;
    const msg = { t: 'report', id: p.id, reason: this.reason.value || 'other' };
    const text = this.note.value.trim();
    if (text) msg.text = text;
    this.errorEl.textContent = '';
    if (this.sendFn(msg)) this.closeReport(true);
  }

  reported(id) {
    const p = this.people().find((x) => x.id === id);
    say(this.live, t('events.people.reported', { name: p?.name || '' }));
  }

  error(msg, text) {
    if (!REFS.has(msg.ref)) return false;
    this.errorEl.textContent = text;
    return true;
  }

  renderReport() {
    const p = this.reporting;
    this.reportLegend.textContent = t('events.people.report_heading', { name: p?.name || '' });
    this.reasonLabel.textContent = t('events.people.reason');
    const current = this.reason.value;
    this.reason.replaceChildren(...REPORT_REASONS.map((r) => option(r, t(`events.people.reason.${r}`), r === current)));
    this.noteLabel.textContent = t('events.people.note');
    this.reportSend.textContent = t('events.people.send_report');
    this.reportCancel.textContent = t('events.people.cancel');
  }

  render() {
    this.heading.textContent = t('events.people.heading');
    this.hint.textContent = t('events.people.hint');
    this.empty.textContent = t('events.people.none');
    const people = this.people();
    this.empty.hidden = people.length > 0;
    keepFocus(this.list, () => this.list.replaceChildren(...people.map((p) => {
      const nameId = `ev-person-${p.id}`;
      const blocked = this.blocked.has(p.id);
      return h('li', { class: 'ev-person', dataset: { id: p.id, blocked: blocked ? 'true' : 'false' } },
        h('span', { id: nameId }, p.name || '?', p.role && p.role !== 'citizen' ? ` (${t(`role.${p.role}`)})` : '',
          blocked ? ` · ${t('events.people.is_blocked')}` : ''),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', 'aria-pressed': blocked ? 'true' : 'false',
            'aria-describedby': nameId, dataset: { action: 'block', id: p.id }, onclick: () => this.toggleBlock(p) },
          t('events.people.block')),
          h('button', { type: 'button', class: 'secondary', 'aria-describedby': nameId,
            dataset: { action: 'report', id: p.id }, onclick: () => this.openReport(p) }, t('events.people.report'))));
    })));
    if (this.reporting) this.renderReport();
  }

  snapshot() {
    return { people: this.people().map((p) => p.id), blocked: [...this.blocked] };
  }
}

// "Schedule an event", for hosts and admins: the title (and an optional
// description) per language, the start and end in the service point's local
// time (datetime-local fields, labelled with the zone), and the main
// auditorium's seats. Sends event_create; errors (bad_time, ...) show in the form.
//
//   const form = new CreateForm({ root, send, tz: () => 'Europe/Stockholm', onCreated });
//   form.show(on); form.error(msg, text) -> bool; form.created();

import { LANG_NAMES, t } from '../../core/i18n.js';
import { h } from './dom.js';
import { EVENT_LANGS, eventTitle, localIso } from './format.js';

const DEFAULT_CAPACITY = 200;

export class CreateForm {
  constructor({ root, send, tz }) {
    this.sendFn = send;
    this.tz = tz;
    this.waiting = false;
    const id = (s) => `ev-new-${s}`;
    this.titles = EVENT_LANGS.map((lang) => ({
      lang,
      input: h('input', { id: id(`title-${lang}`), type: 'text', maxlength: 200, lang, autocomplete: 'off',
        'aria-describedby': id('title-hint') }),
      label: h('label', { for: id(`title-${lang}`), lang }),
    }));
    this.descriptions = EVENT_LANGS.map((lang) => ({
      lang,
      input: h('textarea', { id: id(`desc-${lang}`), rows: 2, maxlength: 2000, lang }),
      label: h('label', { for: id(`desc-${lang}`), lang }),
    }));
    this.starts = h('input', { id: id('starts'), type: 'datetime-local', required: true, 'aria-describedby': id('tz') });
    this.ends = h('input', { id: id('ends'), type: 'datetime-local', required: true, 'aria-describedby': id('tz') });
    this.capacity = h('input', { id: id('capacity'), type: 'number', min: 1, max: 100000, step: 1, value: DEFAULT_CAPACITY,
      inputmode: 'numeric' });
    this.errorEl = h('p', { id: id('error'), class: 'error', role: 'alert' });
    this.statusEl = h('p', { class: 'hint', role: 'status' });
    this.submit = h('button', { type: 'submit', id: id('submit'), class: 'primary' });
    this.legend = h('legend', {});
    this.titleLegend = h('legend', {});
    this.titleHint = h('p', { id: id('title-hint'), class: 'hint' });
    this.descSummary = h('summary', {});
    this.tzHint = h('p', { id: id('tz'), class: 'hint' });
    this.startsLabel = h('label', { for: id('starts') });
    this.endsLabel = h('label', { for: id('ends') });
    this.capacityLabel = h('label', { for: id('capacity') });

    this.form = h('form', { id: 'ev-create', class: 'staff-form ev-create', novalidate: true },
      h('fieldset', {},
        this.legend,
        h('fieldset', { class: 'field' }, this.titleLegend, this.titleHint,
          ...this.titles.map(({ input, label }) => h('div', { class: 'field ev-lang-field' }, label, input))),
        h('details', { class: 'field' }, this.descSummary,
          ...this.descriptions.map(({ input, label }) => h('div', { class: 'field ev-lang-field' }, label, input))),
        this.tzHint,
        h('div', { class: 'field' }, this.startsLabel, this.starts),
        h('div', { class: 'field' }, this.endsLabel, this.ends),
        h('div', { class: 'field' }, this.capacityLabel, this.capacity),
        this.errorEl,
        this.statusEl,
        this.submit));
    root.append(this.form);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    this.relabel();
  }

  show(on) {
    this.form.hidden = !on;
    if (on && !this.starts.value) this.defaults();
  }

  /** The next full hour, for an hour, in the service point's zone. */
  defaults() {
    const now = Date.now() / 1000;
    const start = Math.ceil(now / 3600) * 3600;
    this.starts.value = localIso(start, this.tz());
    this.ends.value = localIso(start + 3600, this.tz());
  }

  relabel() {
    this.legend.textContent = t('events.create.heading');
    this.titleLegend.textContent = t('events.create.title');
    this.titleHint.textContent = t('events.create.title_hint');
    this.descSummary.textContent = t('events.create.description');
    for (const { lang, label } of this.titles) label.textContent = LANG_NAMES[lang];
    for (const { lang, label } of this.descriptions) label.textContent = LANG_NAMES[lang];
    this.tzHint.textContent = t('events.create.tz', { tz: this.tz() || '' });
    this.startsLabel.textContent = t('events.create.starts');
    this.endsLabel.textContent = t('events.create.ends');
    this.capacityLabel.textContent = t('events.create.capacity');
    this.submit.textContent = t('events.create.submit');
  }

  invalid(el, key) {
    this.errorEl.textContent = t(key);
    el.setAttribute('aria-invalid', 'true');
    el.focus();
    return false;
  }

  send() {
    for (const el of [...this.titles.map((x) => x.input), this.starts, this.ends, this.capacity]) el.removeAttribute('aria-invalid');
    this.errorEl.textContent = '';
    this.statusEl.textContent = '';
    const title = {};
    for (const { lang, input } of this.titles) if (input.value.trim()) title[lang] = input.value.trim();
    if (!Object.keys(title).length) return this.invalid(this.titles[0].input, 'events.create.need_title');
    const description = {};
    for (const { lang, input } of this.descriptions) if (input.value.trim()) description[lang] = input.value.trim();
    if (!this.starts.value) return this.invalid(this.starts, 'events.create.need_time');
    if (!this.ends.value) return this.invalid(this.ends, 'events.create.need_time');
    if (this.ends.value <= this.starts.value) return this.invalid(this.ends, 'events.create.end_before_start');
    const capacity = Number(this.capacity.value);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100000) return this.invalid(this.capacity, 'events.create.bad_capacity');
    const msg = { t: 'event_create', title, starts: this.starts.value.slice(0, 16), ends: this.ends.value.slice(0, 16), capacity };
    if (Object.keys(description).length) msg.description = description;
    if (!this.sendFn(msg)) return false;
    this.waiting = true;
    this.submit.disabled = true;
    this.statusEl.textContent = t('events.create.sending');
    return true;
  }

  /** The server announced a new event we host (event_info): the form is done. */
  created(ev) {
    if (!this.waiting) return;
    this.waiting = false;
    this.submit.disabled = false;
    for (const { input } of [...this.titles, ...this.descriptions]) input.value = '';
    this.statusEl.textContent = t('events.create.done', { title: ev ? eventTitle(ev) : '' });
  }

  error(msg, text) {
    if (msg.ref !== 'event_create') return false;
    this.waiting = false;
    this.submit.disabled = false;
    this.statusEl.textContent = '';
    this.errorEl.textContent = text;
    if (msg.code === 'bad_time') this.starts.setAttribute('aria-invalid', 'true');
    return true;
  }
}

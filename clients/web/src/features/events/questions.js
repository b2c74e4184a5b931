// Written questions to the hosts: a field (500 characters, with a visible count that
// screen readers hear only near the limit), and the questions, most votes first,
// each with its votes, "Vote" (a toggle) and, when answered, a mark; hosts and the
// current speakers may mark one answered.
//
//   const q = new QuestionsPanel({ root, send, canAnswer: () => bool });
//   q.set(list); q.update(question); q.error(msg, text) -> bool; q.clear(); q.render();
//
// Sends: event_ask, event_vote, event_answered. Personal identity numbers are
// redacted by the server; the text is shown as plain text.

import { t } from '../../core/i18n.js';
import { h, keepFocus, say } from './dom.js';
import { QUESTION_CHARS } from './format.js';

const REFS = new Set(['event_ask', 'event_vote', 'event_answered']);
const ANNOUNCE_AT = [100, 50, 10, 0];

function order(a, b) {
  if (Boolean(a.answered) !== Boolean(b.answered)) return a.answered ? 1 : -1;
  return (b.votes || 0) - (a.votes || 0) || (a.ts || 0) - (b.ts || 0);
}

export class QuestionsPanel {
  constructor({ root, send, canAnswer = () => false }) {
    this.sendFn = send;
    this.canAnswer = canAnswer;
    this.questions = [];
    this.lastLeft = QUESTION_CHARS;
    this.heading = h('h3', { id: 'ev-q-heading' });
    this.label = h('label', { for: 'ev-q-text' });
    this.input = h('textarea', { id: 'ev-q-text', rows: 3, maxlength: QUESTION_CHARS,
      'aria-describedby': 'ev-q-hint ev-q-count ev-q-error' });
    this.hint = h('p', { id: 'ev-q-hint', class: 'hint' });
    this.count = h('p', { id: 'ev-q-count', class: 'hint ev-count' });
    this.countLive = h('p', { class: 'visually-hidden', role: 'status' });
    this.errorEl = h('p', { id: 'ev-q-error', class: 'error', role: 'alert' });
    this.submit = h('button', { type: 'submit', id: 'ev-q-submit', class: 'primary' });
    this.live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
    this.empty = h('p', { class: 'hint' });
    this.list = h('ol', { id: 'ev-q-list', class: 'plain-list ev-questions', 'aria-labelledby': 'ev-q-heading' });
    this.form = h('form', { id: 'ev-q-form', novalidate: true },
      h('div', { class: 'field' }, this.label, this.input, this.hint, this.count, this.countLive),
      this.errorEl, this.submit);
    this.section = h('section', { id: 'ev-questions', class: 'staff-block', 'aria-labelledby': 'ev-q-heading' },
      this.heading, this.form, this.live, this.empty, this.list);
    root.append(this.section);
    this.input.addEventListener('input', () => this.renderCount(true));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.ask();
    });
    this.render();
  }

  renderCount(announce = false) {
    const used = [...this.input.value].length;
    const left = QUESTION_CHARS - used;
    this.count.textContent = t('events.q.count', { n: used, max: QUESTION_CHARS });
    this.count.dataset.near = left <= 50 ? 'true' : 'false';
    if (announce) {
      const crossed = ANNOUNCE_AT.find((at) => left <= at && this.lastLeft > at);
      if (crossed !== undefined) say(this.countLive, t('events.q.left', { n: left }));
    }
    this.lastLeft = left;
  }

  ask() {
    const text = this.input.value.trim();
    this.errorEl.textContent = '';
    this.input.removeAttribute('aria-invalid');
    if (!text) {
      this.errorEl.textContent = t('events.q.empty');
      this.input.setAttribute('aria-invalid', 'true');
      this.input.focus();
      return;
    }
    if (this.sendFn({ t: 'event_ask', text: [...text].slice(0, QUESTION_CHARS).join('') })) {
      this.input.value = '';
      this.renderCount();
      say(this.live, t('events.q.sent'));
    }
  }

  vote(q) {
    this.sendFn({ t: 'event_vote', question: q.id, up: !q.voted });
  }

  answered(q) {
    this.sendFn({ t: 'event_answered', question: q.id });
  }

  set(list) {
    this.questions = [...(list || [])];
    this.render();
  }

  update(q) {
    const i = this.questions.findIndex((x) => x.id === q.id);
    if (i >= 0) this.questions[i] = q;
    else this.questions.push(q);
    this.render();
  }

  clear() {
    this.questions = [];
    this.errorEl.textContent = '';
    this.render();
  }

  error(msg, text) {
    if (!REFS.has(msg.ref)) return false;
    this.errorEl.textContent = text;
    return true;
  }

  renderQuestion(q) {
    const textId = `ev-q-${q.id}`;
    const votes = t('events.q.votes', { n: q.votes || 0 });
    return h('li', { class: 'ev-question', dataset: { question: q.id, answered: q.answered ? 'true' : 'false' } },
      h('p', { id: textId, class: 'ev-q-text' }, q.text || ''),
      h('p', { class: 'hint ev-q-meta' },
        q.name ? t('events.q.by', { name: q.name }) : t('events.q.anonymous'),
        ` · ${votes}`,
        q.answered ? h('strong', { class: 'ev-answered' }, ` · ${t('events.q.answered')}`) : null),
      h('div', { class: 'actions' },
        q.mine ? h('span', { class: 'hint' }, t('events.q.mine')) : h('button', {
          type: 'button', class: 'secondary', 'aria-pressed': q.voted ? 'true' : 'false',
          'aria-describedby': textId, dataset: { action: 'vote', q: q.id }, onclick: () => this.vote(q),
        }, t('events.q.vote')),
        this.canAnswer() && !q.answered
          ? h('button', { type: 'button', class: 'secondary', 'aria-describedby': textId,
            dataset: { action: 'answered', q: q.id }, onclick: () => this.answered(q) }, t('events.q.mark_answered'))
          : null));
  }

  render() {
    this.heading.textContent = t('events.q.heading');
    this.label.textContent = t('events.q.label');
    this.hint.textContent = t('events.q.hint');
    this.submit.textContent = t('events.q.submit');
    this.renderCount();
    this.empty.textContent = t('events.q.none');
    this.empty.hidden = this.questions.length > 0;
    const sorted = [...this.questions].sort(order);
    keepFocus(this.list, () => this.list.replaceChildren(...sorted.map((q) => this.renderQuestion(q))));
  }

  // Hosts get each question's asker (an entity id), so they can act on who asked.
  askers() {
    const seen = new Map();
    for (const q of this.questions) if (q.asker && !seen.has(q.asker)) seen.set(q.asker, { id: q.asker, name: q.name });
    return [...seen.values()];
  }

  snapshot() {
    return [...this.questions].sort(order).map((q) => ({
      id: q.id, text: q.text, votes: q.votes || 0, voted: Boolean(q.voted), answered: Boolean(q.answered), mine: Boolean(q.mine),
    }));
  }
}

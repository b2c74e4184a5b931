// The chat panel: a log (new lines in an aria-live region, history in a quiet
// list above it so joining a zone does not read fifty old lines aloud), a
// near/zone scope choice, and an input with a send button.
//
//   const chat = new ChatPanel(elements, { send: (scope, text) => bool });
//   chat.addScope('announce', (text) => bool);  // another feature's scope radio
//   chat.line(msg); chat.history(items); chat.announce(msg); chat.notice(text);
//   chat.entries -> every chat item seen, for the test hook.

import { clockTime as time, t } from '../../core/i18n.js';
import { roleBadge } from '../../ui.js';
import { zoneName } from '../../world.js';

const MAX_LINES = 300;

export class ChatPanel {
  /** els: {form, input, log, lines, history, scopeInputs} */
  constructor(els, { send }) {
    this.els = els;
    this.sendFn = send;
    this.entries = [];
    this.seen = new Set();
    this.scopes = new Map(); // scope -> send(text), for scopes other features add
    els.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = els.input.value.trim();
      if (!text) return;
      const scope = this.scope();
      const sent = this.scopes.has(scope) ? this.scopes.get(scope)(text) : this.sendFn(scope, text);
      if (sent) els.input.value = '';
    });
  }

  /** Another feature's scope (a radio already in the form): its own sender. */
  addScope(scope, send) {
    this.scopes.set(scope, send);
  }

  scope() {
    return this.els.scopeInputs.find((r) => r.checked && !r.disabled)?.value || 'near';
  }

  /** Offer a scope (e.g. 'announce') only to roles that may use it. */
  allowScope(scope, allowed) {
    const radio = this.els.scopeInputs.find((r) => r.value === scope);
    if (!radio) return;
    radio.disabled = !allowed;
    radio.closest('label').hidden = !allowed;
    if (!allowed && radio.checked) this.els.scopeInputs[0].checked = true;
  }

  key(item) {
    return `${item.id}|${item.ts}|${item.text}`;
  }

  render(item, kind) {
    const p = document.createElement('p');
    p.className = `chat-line chat-${kind}`;
    const when = document.createElement('time');
    when.className = 'chat-time';
    if (item.ts) {
      when.dateTime = new Date(item.ts * 1000).toISOString();
      when.textContent = time(item.ts);
    }
    const who = document.createElement('span');
    who.className = 'chat-who';
    who.textContent = item.name ?? t('chat.notice');
    p.append(when, ' ', who);
    if (item.role && item.role !== 'citizen') p.append(' ', roleBadge(item.role));
    if (kind === 'line') {
      const scope = document.createElement('span');
      scope.className = 'chat-scope';
      scope.textContent = `(${item.scope === 'zone' ? `${t('chat.tag.zone')}: ${zoneName(item.zone)}` : t('chat.tag.near')})`;
      p.append(' ', scope);
    } else if (kind === 'announce') {
      const tag = document.createElement('strong');
      tag.className = 'chat-announce-tag';
      tag.textContent = t('chat.announcement');
      p.prepend(tag, ' ');
    }
    const text = document.createElement('span');
    text.className = 'chat-text';
    text.textContent = item.text;
    p.append(': ', text);
    return p;
  }

  append(container, node) {
    container.append(node);
    while (container.childElementCount > MAX_LINES) container.firstElementChild.remove();
    this.els.empty.hidden = true;
    const log = this.els.log;
    log.scrollTop = log.scrollHeight;
  }

  remember(item, kind) {
    const k = this.key(item);
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    this.entries.push({ kind, id: item.id, name: item.name, role: item.role, scope: item.scope, zone: item.zone, text: item.text, ts: item.ts });
    if (this.entries.length > MAX_LINES) this.entries.shift();
    return true;
  }

  line(msg) {
    if (this.remember(msg, 'chat')) this.append(this.els.lines, this.render(msg, 'line'));
  }

  announce(msg) {
    if (this.remember(msg, 'announce')) this.append(this.els.lines, this.render(msg, 'announce'));
  }

  /** Recent zone chat sent on entering a zone: shown quietly above the live lines. */
  history(items) {
    for (const item of items) {
      if (this.remember(item, 'chat')) this.append(this.els.history, this.render(item, 'line'));
    }
  }

  /** A line from the page itself (joined, errors). Announced like chat. */
  notice(text) {
    const p = document.createElement('p');
    p.className = 'chat-line chat-notice';
    const tag = document.createElement('strong');
    tag.textContent = t('chat.notice');
    p.append(tag, `: ${text}`);
    this.append(this.els.lines, p);
  }

  clear() {
    this.els.lines.replaceChildren();
    this.els.history.replaceChildren();
    this.els.empty.hidden = false;
    this.entries = [];
    this.seen.clear();
  }
}

// The HTML panels around the view: language switchers, the join form, the
// status line, the "walk to" list, and the role badge features put after names. Plain DOM, no framework; every control
// has a label, and everything is reachable with the keyboard.

import { LANGS, LANG_NAMES, getLanguage, onLanguageChange, setLanguage, t } from './core/i18n.js';
import { closeName } from './net.js';
import { places, zoneName } from './world.js';

const $ = (id) => document.getElementById(id);

/** Fill every .lang-select with the five languages and keep them in sync. */
export function setupLanguageSelects() {
  const selects = [...document.querySelectorAll('select.lang-select')];
  for (const sel of selects) {
    for (const code of LANGS) {
      const opt = document.createElement('option');
      opt.value = code;
      opt.lang = code;
      opt.textContent = LANG_NAMES[code];
      sel.append(opt);
    }
    sel.value = getLanguage();
    sel.addEventListener('change', () => setLanguage(sel.value));
  }
  onLanguageChange((lang) => { for (const sel of selects) sel.value = lang; });
}

const STORE_KEY = 'servicepoint.profile';

/** The join form. onSubmit({name, color, avatar, token}) is called with valid values. */
export class JoinForm {
  constructor(onSubmit) {
    this.form = $('join-form');
    this.name = $('join-name');
    this.color = $('join-color');
    this.token = $('join-token');
    this.error = $('join-error');
    this.submit = $('join-submit');
    this.errorKey = null;
    this.restore();
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = this.name.value.trim();
      if (!name) {
        this.showError('join.name_required');
        this.name.setAttribute('aria-invalid', 'true');
        this.name.focus();
        return;
      }
      this.name.removeAttribute('aria-invalid');
      this.showError(null);
      const profile = {
        name: [...name].slice(0, 32).join(''),
        color: parseInt(this.color.value.slice(1), 16) || 0,
        avatar: this.form.elements.avatar.value || 'round',
      };
      this.remember(profile);
      onSubmit({ ...profile, token: this.token.value.trim() || null });
    });
    onLanguageChange(() => { if (this.errorKey) this.error.textContent = t(this.errorKey); });
  }

  showError(key, params) {
    this.errorKey = key;
    this.error.textContent = key ? t(key, params) : '';
  }

  /** Show a message that is already translated (e.g. a close reason). */
  showText(text) {
    this.errorKey = null;
    this.error.textContent = text;
  }

  setToken(token) {
    if (token) this.token.value = token;
  }

  setBusy(busy) {
    this.submit.disabled = busy;
  }

  remember(profile) {
    try { globalThis.localStorage?.setItem(STORE_KEY, JSON.stringify(profile)); } catch { /* not remembered */ }
  }

  restore() {
    try {
      const p = JSON.parse(globalThis.localStorage?.getItem(STORE_KEY) || 'null');
      if (!p) return;
      if (p.name) this.name.value = p.name;
      if (Number.isInteger(p.color)) this.color.value = `#${p.color.toString(16).padStart(6, '0')}`;
      const radio = this.form.querySelector(`input[name=avatar][value="${p.avatar}"]`);
      if (radio) radio.checked = true;
    } catch { /* ignore a broken profile */ }
  }
}

/** The small "Staff"/"Host" badge after a name (chat lines, call members). */
export function roleBadge(role) {
  const badge = document.createElement('span');
  badge.className = `chat-badge role-${role}`;
  badge.textContent = t(`role.${role}`);
  return badge;
}

/** The human sentence for a close: 'close.KICKED' etc., else the code. */
export function closeReason(detail) {
  const name = detail.name ?? closeName(detail.code);
  if (name) return t(`close.${name}`);
  return t('close.unknown', { code: detail.code ?? '?' });
}

/** The status line (role=status, so changes are announced politely). */
export class StatusLine {
  constructor() {
    this.el = $('status');
    this.latency = $('latency');
    this.current = { state: 'idle' };
    this.zone = null;
    this.busy = false;
    onLanguageChange(() => this.render());
  }

  /** The server runs slower than its tick rate (a `load` message): say so once, politely. */
  setBusy(busy) {
    if (busy === this.busy) return;
    this.busy = busy;
    this.render();
  }

  set(detail) {
    this.current = detail;
    this.render();
  }

  setZone(zone) {
    this.zone = zone;
    this.render();
  }

  setLatency(ms) {
    this.latency.hidden = ms === null;
    if (ms !== null) this.latency.textContent = t('status.latency', { ms });
  }

  render() {
    const d = this.current;
    let text;
    switch (d.state) {
      case 'connecting': text = t('status.connecting'); break;
      case 'welcomed': text = t('status.welcomed'); break;
      case 'joined':
        text = t('status.joined', { zone: zoneName(this.zone) });
        if (this.busy) text += ` ${t('status.busy')}`;
        break;
      case 'reconnecting': text = t('status.reconnecting', { s: Math.max(1, Math.round((d.delayMs ?? 0) / 1000)) }); break;
      case 'closed': text = t('status.closed', { reason: closeReason(d) }); break;
      case 'left': text = t('status.left'); break;
      default: text = t('status.idle');
    }
    this.el.dataset.state = d.state;
    this.el.dataset.busy = String(this.busy && d.state === 'joined');
    this.el.textContent = text;
  }
}

/** The "walk to" list: one button per place in the world. */
export class PlacesList {
  constructor(onPick) {
    this.list = $('places');
    this.onPick = onPick;
    this.world = null;
    onLanguageChange(() => this.render());
  }

  setWorld(world) {
    this.world = world;
    this.render();
  }

  render() {
    if (!this.world) return;
    this.list.replaceChildren(...places(this.world).map((p) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = p.label;
      b.dataset.place = p.id;
      b.addEventListener('click', () => this.onPick(p));
      li.append(b);
      return li;
    }));
  }
}

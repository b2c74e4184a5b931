// The host console (event_joined.host): attendees per instance; the raised hands
// in order, each with "Invite to speak" (for the seconds chosen: 90 by default,
// 0 without a limit); who is on stage, with mute / unmute and "Take off stage",
// and mute all; removing (kick) or banning a person (scope, reason); the slides
// (upload a PDF, PNG or JPEG with its progress, previous / next page); captions.
// A captioner (role) sees only the captions block.
//
//   const host = new HostConsole({ root, send, people: () => [{id, name}], onUpload(file) });
//   host.setMode({ host, captions });  host.setCounts(counts); host.setHands(queue);
//   host.setStage({speakers, slide}); host.setUpload(upload); host.error(msg, text) -> bool;
//   host.render(); host.snapshot();

import { t } from '../../core/i18n.js';
import { h, keepFocus, option, say } from './dom.js';
import { BAN_SCOPES, CAPTION_CHARS, SLIDE_TYPES, clock, instanceLabel, slideType } from './format.js';

const REFS = new Set(['event_promote', 'event_demote', 'event_mute', 'event_kick', 'event_ban', 'event_caption',
  'event_slides_begin', 'event_slides_chunk', 'event_slides_end', 'event_slide']);
const UPLOAD_REFS = new Set(['event_slides_begin', 'event_slides_chunk', 'event_slides_end']);
const DEFAULT_SECONDS = 90;
const PARTIAL_EVERY_MS = 1000;

export class HostConsole {
  constructor({ root, send, people = () => [], onUpload }) {
    this.sendFn = send;
    this.people = people;
    this.onUpload = onUpload;
    this.isHost = false;
    this.captions = false;
    this.counts = [];
    this.hands = [];
    this.speakers = [];
    this.slide = null;
    this.muted = new Set(); // speakers this console muted (the server does not list them)
    this.upload = null;
    this.lastPartial = 0;

    const sec = (id, ...children) => h('section', { id, class: 'staff-block', 'aria-labelledby': `${id}-heading` }, ...children);
    this.heading = h('h2', { id: 'ev-host-heading' });
    this.live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
    this.errorEl = h('p', { id: 'ev-host-error', class: 'error', role: 'alert' });

    // Attendees per instance.
    this.countsHeading = h('h3', { id: 'ev-host-counts-heading' });
    this.countsTable = h('table', { class: 'sc-table ev-counts' });
    this.countsBlock = sec('ev-host-counts', this.countsHeading, h('div', { class: 'table-wrap' }, this.countsTable));

    // Hands.
    this.handsHeading = h('h3', { id: 'ev-host-hands-heading' });
    this.secondsLabel = h('label', { for: 'ev-host-seconds' });
    this.seconds = h('input', { id: 'ev-host-seconds', type: 'number', min: 0, max: 3600, step: 1, value: DEFAULT_SECONDS,
      inputmode: 'numeric', 'aria-describedby': 'ev-host-seconds-hint' });
    this.secondsHint = h('p', { id: 'ev-host-seconds-hint', class: 'hint' });
    this.handsEmpty = h('p', { class: 'hint' });
    this.handsList = h('ol', { id: 'ev-host-hands', class: 'plain-list ev-hands', 'aria-labelledby': 'ev-host-hands-heading' });
    this.handsBlock = sec('ev-host-hands-block', this.handsHeading,
      h('div', { class: 'field field-inline' }, this.secondsLabel, this.seconds), this.secondsHint,
      this.handsEmpty, this.handsList);

    // Stage.
    this.stageHeading = h('h3', { id: 'ev-host-stage-heading' });
    this.stageList = h('ul', { id: 'ev-host-speakers', class: 'plain-list ev-speakers', 'aria-labelledby': 'ev-host-stage-heading' });
    this.muteAll = h('button', { type: 'button', id: 'ev-host-mute-all', class: 'secondary' });
    this.unmuteAll = h('button', { type: 'button', id: 'ev-host-unmute-all', class: 'secondary' });
    this.stageBlock = sec('ev-host-stage', this.stageHeading, this.stageList,
      h('div', { class: 'actions' }, this.muteAll, this.unmuteAll));
    this.muteAll.addEventListener('click', () => this.mute(null, true));
    this.unmuteAll.addEventListener('click', () => this.mute(null, false));

    // Kick / ban.
    this.modHeading = h('legend', {});
    this.whoLabel = h('label', { for: 'ev-host-who' });
    this.who = h('select', { id: 'ev-host-who' });
    this.scopeLabel = h('label', { for: 'ev-host-scope' });
    this.scope = h('select', { id: 'ev-host-scope' });
    this.reasonLabel = h('label', { for: 'ev-host-reason' });
    this.reason = h('input', { id: 'ev-host-reason', type: 'text', maxlength: 200, autocomplete: 'off' });
    this.kick = h('button', { type: 'button', id: 'ev-host-kick', class: 'secondary' });
    this.ban = h('button', { type: 'button', id: 'ev-host-ban', class: 'secondary' });
    this.modBlock = h('form', { id: 'ev-host-mod', class: 'staff-block', novalidate: true },
      h('fieldset', {}, this.modHeading,
        h('div', { class: 'field' }, this.whoLabel, this.who),
        h('div', { class: 'field' }, this.reasonLabel, this.reason),
        h('div', { class: 'field' }, this.scopeLabel, this.scope),
        h('div', { class: 'actions' }, this.kick, this.ban)));
    this.modBlock.addEventListener('submit', (e) => e.preventDefault());
    this.kick.addEventListener('click', () => this.remove(false));
    this.ban.addEventListener('click', () => this.remove(true));

    // Slides.
    this.slidesHeading = h('h3', { id: 'ev-host-slides-heading' });
    this.fileLabel = h('label', { for: 'ev-host-file' });
    this.file = h('input', { id: 'ev-host-file', type: 'file', accept: SLIDE_TYPES.join(','),
      'aria-describedby': 'ev-host-file-hint ev-host-upload-status ev-host-upload-error' });
    this.fileHint = h('p', { id: 'ev-host-file-hint', class: 'hint' });
    this.uploadButton = h('button', { type: 'button', id: 'ev-host-upload', class: 'primary' });
    this.progress = h('progress', { id: 'ev-host-progress', max: 1, value: 0, hidden: true, 'aria-labelledby': 'ev-host-upload-status' });
    this.uploadStatus = h('p', { id: 'ev-host-upload-status', class: 'hint' });
    this.uploadLive = h('p', { class: 'visually-hidden', role: 'status' });
    this.uploadError = h('p', { id: 'ev-host-upload-error', class: 'error', role: 'alert' });
    this.prev = h('button', { type: 'button', id: 'ev-host-prev', class: 'secondary' });
    this.next = h('button', { type: 'button', id: 'ev-host-next', class: 'secondary' });
    this.pageText = h('p', { id: 'ev-host-page', class: 'ev-page' });
    this.slidesBlock = sec('ev-host-slides', this.slidesHeading,
      h('div', { class: 'field' }, this.fileLabel, this.file, this.fileHint),
      h('div', { class: 'actions' }, this.uploadButton),
      this.progress, this.uploadStatus, this.uploadLive, this.uploadError,
      this.pageText, h('div', { class: 'actions' }, this.prev, this.next));
    this.uploadButton.addEventListener('click', () => this.startUpload());
    this.prev.addEventListener('click', () => this.step(-1));
    this.next.addEventListener('click', () => this.step(1));

    // Captions.
    this.capHeading = h('h3', { id: 'ev-host-captions-heading' });
    this.capLabel = h('label', { for: 'ev-host-caption' });
    this.capInput = h('input', { id: 'ev-host-caption', type: 'text', maxlength: CAPTION_CHARS, autocomplete: 'off',
      'aria-describedby': 'ev-host-caption-hint' });
    this.capHint = h('p', { id: 'ev-host-caption-hint', class: 'hint' });
    this.capSend = h('button', { type: 'submit', id: 'ev-host-caption-send', class: 'secondary' });
    this.capForm = h('form', { id: 'ev-host-caption-form', novalidate: true },
      h('div', { class: 'field' }, this.capLabel, h('div', { class: 'chat-row' }, this.capInput, this.capSend), this.capHint));
    this.capBlock = sec('ev-host-captions', this.capHeading, this.capForm);
    this.capForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.caption(true);
    });
    this.capInput.addEventListener('input', () => this.caption(false));

    this.panel = h('section', { id: 'ev-host', class: 'panel ev-host', hidden: true, 'aria-labelledby': 'ev-host-heading' },
      this.heading, this.live, this.errorEl,
      this.countsBlock, this.handsBlock, this.stageBlock, this.slidesBlock, this.capBlock, this.modBlock);
    root.append(this.panel);
    this.render();
  }

  send(msg) {
    this.errorEl.textContent = '';
    return this.sendFn(msg);
  }

  setMode({ host, captions }) {
    this.isHost = Boolean(host);
    this.captions = Boolean(captions || host);
    if (!this.isHost) this.muted.clear();
    this.render();
  }

  setCounts(counts) { this.counts = counts || []; this.renderCounts(); }
  setHands(queue) { this.hands = queue || []; this.renderHands(); this.renderWho(); }
  setStage({ speakers, slide }) {
    this.speakers = speakers || [];
    for (const id of [...this.muted]) if (!this.speakers.some((s) => s.id === id)) this.muted.delete(id);
    this.slide = slide ?? null;
    this.renderStage();
    this.renderSlides();
    this.renderWho();
  }

  setUpload(upload) {
    this.upload = upload;
    this.renderUpload();
  }

  // -- actions ------------------------------------------------------------------------------

  secondsValue() {
    const v = Number(this.seconds.value);
    return Number.isInteger(v) && v >= 0 && v <= 3600 ? v : DEFAULT_SECONDS;
  }

  promote(p) {
    if (this.send({ t: 'event_promote', id: p.id, seconds: this.secondsValue() })) {
      say(this.live, t('events.host.invited', { name: p.name || '' }));
    }
  }

  demote(p) {
    if (this.send({ t: 'event_demote', id: p.id })) say(this.live, t('events.host.demoted', { name: p.name || '' }));
  }

  mute(p, muted) {
    const msg = { t: 'event_mute', muted };
    if (p) msg.id = p.id;
    if (!this.send(msg)) return;
    if (p) {
      if (muted) this.muted.add(p.id);
      else this.muted.delete(p.id);
      say(this.live, t(muted ? 'events.host.muted_one' : 'events.host.unmuted_one', { name: p.name || '' }));
    } else {
      for (const s of this.speakers) {
        if (s.role === 'host' || s.role === 'admin') continue;
        if (muted) this.muted.add(s.id);
        else this.muted.delete(s.id);
      }
      say(this.live, t(muted ? 'events.host.muted_all' : 'events.host.unmuted_all'));
    }
    this.renderStage();
  }

  remove(ban) {
    const id = Number(this.who.value);
    if (!id) {
      this.errorEl.textContent = t('events.host.choose_person');
      this.who.focus();
      return;
    }
    const msg = ban
      ? { t: 'event_ban', id, scope: this.scope.value || 'event' }
      : { t: 'event_kick', id };
    const reason = this.reason.value.trim();
    if (reason) msg.reason = reason;
    const name = this.who.selectedOptions[0]?.textContent || '';
    if (this.send(msg)) {
      this.reason.value = '';
      say(this.live, t(ban ? 'events.host.banned' : 'events.host.kicked', { name }));
    }
  }

  startUpload() {
    this.uploadError.textContent = '';
    this.file.removeAttribute('aria-invalid');
    const file = this.file.files?.[0];
    if (!file) {
      this.uploadError.textContent = t('events.slides.choose');
      this.file.setAttribute('aria-invalid', 'true');
      this.file.focus();
      return;
    }
    const type = slideType(file);
    if (!type) {
      this.uploadError.textContent = t('error.bad_file');
      this.file.setAttribute('aria-invalid', 'true');
      this.file.focus();
      return;
    }
    this.onUpload?.(file, type);
  }

  step(delta) {
    if (!this.slide) return;
    const page = this.slide.page + delta;
    if (page < 1 || page > this.slide.pages) return;
    this.send({ t: 'event_slide', page });
  }

  caption(final) {
    const text = this.capInput.value.trim();
    if (!text) return;
    const now = performance.now();
    if (!final && now - this.lastPartial < PARTIAL_EVERY_MS) return;
    this.lastPartial = now;
    if (this.send({ t: 'event_caption', text: [...text].slice(0, CAPTION_CHARS).join(''), final }) && final) {
      this.capInput.value = '';
    }
  }

  error(msg, text) {
    if (!REFS.has(msg.ref)) return false;
    if (UPLOAD_REFS.has(msg.ref)) {
      this.uploadError.textContent = text;
      this.file.setAttribute('aria-invalid', 'true');
    } else {
      this.errorEl.textContent = text;
    }
    return true;
  }

  // -- drawing ------------------------------------------------------------------------------

  renderCounts() {
    const rows = [...this.counts].sort((a, b) => a.instance - b.instance);
    const total = rows.reduce((n, c) => n + (c.attendees || 0), 0);
    this.countsTable.replaceChildren(
      h('caption', {}, t('events.host.counts_caption', { n: total })),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('events.host.col.room')),
        h('th', { scope: 'col' }, t('events.host.col.attendees')),
        h('th', { scope: 'col' }, t('events.host.col.seats')))),
      h('tbody', {}, ...rows.map((c) => h('tr', { dataset: { instance: c.instance } },
        h('th', { scope: 'row' }, instanceLabel(c.instance, this.counts)),
        h('td', {}, String(c.attendees ?? 0)),
        h('td', {}, String(c.capacity ?? 0))))));
  }

  personLine(p) {
    const where = p.instance ? ` (${instanceLabel(p.instance, this.counts)})` : '';
    return `${p.name || '?'}${where}`;
  }

  renderHands() {
    this.handsEmpty.hidden = this.hands.length > 0;
    keepFocus(this.handsList, () => this.handsList.replaceChildren(...this.hands.map((p, i) => {
      const nameId = `ev-hand-${p.id}`;
      const onStage = this.speakers.some((s) => s.id === p.id);
      return h('li', { class: 'ev-hand', dataset: { id: p.id } },
        h('span', { id: nameId }, t('events.host.hand_line', { n: i + 1, name: this.personLine(p), time: p.since ? clock(p.since) : '' })),
        ' ',
        onStage ? h('span', { class: 'hint' }, t('events.host.on_stage')) : h('button', {
          type: 'button', class: 'primary', 'aria-describedby': nameId, dataset: { action: 'promote', id: p.id },
          onclick: () => this.promote(p),
        }, t('events.host.promote')));
    })));
  }

  renderStage() {
    keepFocus(this.stageList, () => this.stageList.replaceChildren(...this.speakers.map((p) => {
      const nameId = `ev-speaker-${p.id}`;
      const host = p.role === 'host' || p.role === 'admin';
      const muted = p.muted ?? this.muted.has(p.id); // the server says so; else what we sent
      return h('li', { class: 'ev-speaker', dataset: { id: p.id, muted: muted ? 'true' : 'false' } },
        h('span', { id: nameId }, this.personLine(p),
          p.until ? ` · ${t('events.host.until', { time: clock(p.until) })}` : '',
          muted ? ` · ${t('events.host.is_muted')}` : ''),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', 'aria-pressed': muted ? 'true' : 'false',
            'aria-describedby': nameId, dataset: { action: 'mute', id: p.id },
            onclick: () => this.mute(p, !muted) }, t('events.host.mute')),
          host ? null : h('button', { type: 'button', class: 'secondary', 'aria-describedby': nameId,
            dataset: { action: 'demote', id: p.id }, onclick: () => this.demote(p) }, t('events.host.demote'))));
    })));
    if (!this.speakers.length) this.stageList.replaceChildren(h('li', { class: 'hint' }, t('events.host.nobody_on_stage')));
  }

  renderWho() {
    const seen = new Map();
    for (const p of [...this.hands, ...this.speakers, ...this.people()]) if (p?.id && !seen.has(p.id)) seen.set(p.id, p);
    const current = this.who.value;
    this.who.replaceChildren(option('', t('events.host.choose')),
      ...[...seen.values()].map((p) => option(p.id, p.name || String(p.id), String(p.id) === current)));
  }

  renderSlides() {
    const s = this.slide;
    this.pageText.textContent = s ? t('events.slide.page', { page: s.page, pages: s.pages }) : t('events.stage.no_slides');
    this.prev.disabled = !s || s.page <= 1;
    this.next.disabled = !s || s.page >= s.pages;
  }

  renderUpload() {
    const up = this.upload;
    const state = up?.state ?? 'idle';
    this.uploadButton.disabled = Boolean(up?.busy);
    this.progress.hidden = !(state === 'sending' || state === 'rendering' || state === 'begin');
    this.progress.max = Math.max(1, up?.size || 1);
    this.progress.value = state === 'rendering' ? this.progress.max : (up?.sent || 0);
    const pct = up?.size ? Math.round((100 * (up.sent || 0)) / up.size) : 0;
    const text = {
      idle: '',
      begin: t('events.slides.starting'),
      sending: t('events.slides.sending', { pct }),
      rendering: t('events.slides.rendering'),
      done: t('events.slides.done', { pages: this.slide?.pages ?? 1 }),
      failed: '',
    }[state] ?? '';
    this.uploadStatus.textContent = text;
    if (state !== this.lastUploadState) {
      this.lastUploadState = state;
      if (state !== 'sending' && text) say(this.uploadLive, text);
      if (state === 'failed' && up.code) {
        const key = `error.${up.code}`;
        this.uploadError.textContent = t(key) === key ? t('events.slides.failed') : t(key);
      }
    }
  }

  render() {
    this.panel.hidden = !(this.isHost || this.captions);
    this.heading.textContent = t(this.isHost ? 'events.host.heading' : 'events.host.heading_captions');
    for (const block of [this.countsBlock, this.handsBlock, this.stageBlock, this.slidesBlock, this.modBlock]) block.hidden = !this.isHost;
    this.capBlock.hidden = !this.captions;
    this.countsHeading.textContent = t('events.host.counts');
    this.handsHeading.textContent = t('events.host.hands');
    this.secondsLabel.textContent = t('events.host.seconds');
    this.secondsHint.textContent = t('events.host.seconds_hint');
    this.handsEmpty.textContent = t('events.host.no_hands');
    this.stageHeading.textContent = t('events.host.stage');
    this.muteAll.textContent = t('events.host.mute_all');
    this.unmuteAll.textContent = t('events.host.unmute_all');
    this.modHeading.textContent = t('events.host.moderation');
    this.whoLabel.textContent = t('events.host.who');
    this.reasonLabel.textContent = t('events.host.reason');
    this.scopeLabel.textContent = t('events.host.scope');
    this.scope.replaceChildren(...BAN_SCOPES.map((s) => option(s, t(`events.host.scope.${s}`), s === (this.scope.value || 'event'))));
    this.kick.textContent = t('events.host.kick');
    this.ban.textContent = t('events.host.ban');
    this.slidesHeading.textContent = t('events.slides.heading');
    this.fileLabel.textContent = t('events.slides.file');
    this.fileHint.textContent = t('events.slides.hint');
    this.uploadButton.textContent = t('events.slides.upload');
    this.prev.textContent = t('events.slides.prev');
    this.next.textContent = t('events.slides.next');
    this.capHeading.textContent = t('events.captions.heading');
    this.capLabel.textContent = t('events.captions.input');
    this.capHint.textContent = t('events.captions.input_hint');
    this.capSend.textContent = t('events.captions.send');
    this.renderCounts();
    this.renderHands();
    this.renderStage();
    this.renderWho();
    this.renderSlides();
    this.lastUploadState = null;
    this.renderUpload();
  }

  snapshot() {
    return {
      visible: !this.panel.hidden,
      host: this.isHost,
      counts: this.counts.map((c) => ({ ...c })),
      hands: this.hands.map((p) => ({ id: p.id, name: p.name })),
      speakers: this.speakers.map((p) => ({ id: p.id, name: p.name, muted: this.muted.has(p.id) })),
      upload: this.upload ? { state: this.upload.state, sent: this.upload.sent, size: this.upload.size, code: this.upload.code } : null,
      slide: this.slide ? { page: this.slide.page, pages: this.slide.pages } : null,
    };
  }
}

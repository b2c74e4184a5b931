// The in-call bar: who is in the desk call, the voice state, mute / leave /
// join again, and the desk's text chat (the fallback for people without a
// microphone; only the call's members receive it).
//
//   const bar = new CallBar({ send, voice, selfId: () => id, errorText });
//   bar.update(msg);     // every `call`: active:true starts voice, false ends it
//   bar.say(msg);        // every `desk_say`
//   bar.end();           // we left the hall: close everything

import { clockTime as time, onLanguageChange, t } from '../../core/i18n.js';
import { roleBadge } from '../../ui.js';
import { deskById, deskName, practiceDeskById, practiceDeskName } from '../../world.js';
import { focusLost } from './ticket.js';

const $ = (id) => document.getElementById(id);
const MAX_LINES = 200;

export class CallBar {
  constructor({ send, voice, selfId, errorText, announce }) {
    this.send = send;
    this.voice = voice;
    this.selfId = selfId;
    this.errorText = errorText;
    this.announce = announce;
    this.panel = $('call-bar');
    this.world = null;
    this.call = null; // the last active `call`
    this.leftVoice = false; // the person left the voice call; do not rejoin by themselves
    this.log = []; // {id, name, role, text, ts}
    this.errorCode = null;
    $('call-mute').addEventListener('click', () => this.voice.setMuted(!this.voice.muted));
    $('call-hangup').addEventListener('click', () => {
      this.leftVoice = true;
      this.voice.hangup(); // renders: "Join the voice call" replaces this button
      $('call-rejoin').focus();
    });
    $('call-rejoin').addEventListener('click', () => {
      this.leftVoice = false;
      this.showError(null);
      this.voice.start(); // renders: "Leave the voice call" replaces this button
      $('call-hangup').focus();
    });
    $('call-sound').addEventListener('click', () => this.voice.resumePlayback());
    $('call-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $('call-input');
      const text = input.value.trim();
      if (!text) return;
      if (this.send({ t: 'desk_say', text })) input.value = '';
    });
    this.voice.addEventListener('change', () => this.renderVoice());
    // Errors about voice messages (rtc_offer, mute, hangup) show here, in the call.
    this.voice.addEventListener('error', (e) => {
      if (!this.active) return;
      this.showError(e.detail.code);
      e.preventDefault();
    });
    // The log is not redrawn on a language switch: it is a live region, and
    // redrawing would read every line again.
    onLanguageChange(() => {
      this.render();
      if (this.errorCode) this.showError(this.errorCode);
    });
  }

  setWorld(world) {
    this.world = world;
  }

  get active() {
    return Boolean(this.call);
  }

  update(msg) {
    if (!msg.active) {
      if (this.call && this.call.room === msg.room) this.end(true);
      return;
    }
    const fresh = this.call?.room !== msg.room;
    this.call = { ...msg };
    if (fresh) {
      this.leftVoice = false;
      this.log = [];
      this.renderLog();
      this.showError(null);
      this.announce?.(t('call.started', { names: this.others().map((m) => m.name).join(', ') }));
    }
    this.render();
    // Answering hides the call notification: continue at the call.
    if (fresh && focusLost('#called-panel')) $('call-heading').focus();
    if (!this.voice.active && !this.leftVoice) this.voice.start();
  }

  /** The call ended (or we left the hall): stop voice, hide the bar. */
  end(announce = false) {
    if (!this.call) return;
    this.call = null;
    this.voice.stop();
    this.log = [];
    this.renderLog();
    this.render();
    if (announce) this.announce?.(t('call.ended'));
  }

  others() {
    return (this.call?.members || []).filter((m) => m.id !== this.selfId());
  }

  render() {
    this.panel.hidden = !this.call;
    if (!this.call) return;
    const desk = deskById(this.world, this.call.desk);
    const practice = desk ? null : practiceDeskById(this.world, this.call.desk);
    const label = desk ? deskName(desk) : practice ? practiceDeskName(practice) : this.call.desk;
    $('call-heading').textContent = t('call.heading', { desk: label });
    $('call-members').replaceChildren(...this.call.members.map((m) => {
      const li = document.createElement('li');
      li.dataset.id = m.id;
      li.textContent = m.id === this.selfId() ? t('call.you', { name: m.name }) : m.name;
      if (m.role !== 'citizen') li.append(' ', roleBadge(m.role));
      return li;
    }));
    this.renderVoice();
  }

  renderVoice() {
    if (!this.call) return;
    const v = this.voice;
    const line = $('call-voice');
    const parts = [];
    if (v.state === 'off') parts.push(t('call.voice.off'));
    else if (v.mic === 'denied' || v.mic === 'unavailable') parts.push(t(`call.mic.${v.mic}`));
    if (v.state !== 'off') parts.push(t(`call.voice.${v.state}`));
    if (v.state !== 'off' && v.mic === 'ok' && v.muted) parts.push(t('call.muted'));
    line.textContent = parts.join(' ');
    line.dataset.state = v.state;
    line.dataset.mic = v.mic ?? '';
    const mute = $('call-mute');
    mute.hidden = v.state === 'off' || v.mic === 'denied' || v.mic === 'unavailable';
    mute.setAttribute('aria-pressed', String(v.muted));
    $('call-hangup').hidden = v.state === 'off' || v.state === 'failed';
    $('call-rejoin').hidden = !(v.state === 'off' || v.state === 'failed');
    $('call-sound').hidden = !v.blocked;
  }

  say(msg) {
    if (!this.call) return;
    this.log.push({ id: msg.id, name: msg.name, role: msg.role, text: msg.text, ts: msg.ts });
    if (this.log.length > MAX_LINES) this.log.shift();
    $('call-lines').append(this.line(msg));
    while ($('call-lines').childElementCount > MAX_LINES) $('call-lines').firstElementChild.remove();
    $('call-empty').hidden = true;
    const box = $('call-log');
    box.scrollTop = box.scrollHeight;
  }

  line(item) {
    const p = document.createElement('p');
    p.className = 'chat-line';
    const when = document.createElement('time');
    when.className = 'chat-time';
    when.dateTime = new Date(item.ts * 1000).toISOString();
    when.textContent = time(item.ts);
    const who = document.createElement('span');
    who.className = 'chat-who';
    who.textContent = item.id === this.selfId() ? t('call.you', { name: item.name }) : item.name;
    p.append(when, ' ', who);
    if (item.role && item.role !== 'citizen') p.append(' ', roleBadge(item.role));
    const text = document.createElement('span');
    text.className = 'chat-text';
    text.textContent = item.text;
    p.append(': ', text);
    return p;
  }

  /** Redraw the log (cleared for a new call). */
  renderLog() {
    $('call-lines').replaceChildren(...this.log.map((item) => this.line(item)));
    $('call-empty').hidden = this.log.length > 0;
  }

  showError(code) {
    this.errorCode = code;
    $('call-error').textContent = code ? this.errorText(code) : '';
  }

  state() {
    return this.call ? { room: this.call.room, desk: this.call.desk, members: this.call.members.map((m) => ({ ...m })) } : null;
  }
}

// The event panel, while one attends: which room (the auditorium or "Overflow
// room 2 of 3", with "Move to the main auditorium" when a seat frees), the sound
// (its state; "Turn on the sound" when the browser holds it back), one's hand,
// speaking (on stage until ..., muted by a host, one's own microphone toggle),
// who is on stage, the current slide (an image with its page as text), the live
// captions (a line, and a polite live region for screen readers; a toggle), and
// "Leave the event". The questions and the people list sit below (their modules).
//
//   const panel = new EventPanel({ root, actions: { leave, move, hand, mic, sound } });
//   panel.render(view);   // view: {event, instance, counts, you, stage, sound, host, speaking}
//   panel.caption(msg);   // event_caption
//   panel.focus();        // after joining
//   panel.body            // where the questions and the people list go

import { t } from '../../core/i18n.js';
import { h, say } from './dom.js';
import { clock, eventTitle, instanceLabel, mainSeatsFree } from './format.js';

export class EventPanel {
  constructor({ root, actions }) {
    this.actions = actions;
    this.captionsOn = true;
    this.lastCaption = null;
    this.lastRoom = null;
    this.heading = h('h2', { id: 'ev-heading', tabindex: '-1' });
    this.live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
    this.room = h('p', { id: 'ev-room', class: 'ev-room' });
    this.seat = h('p', { id: 'ev-seat', class: 'ev-seat', hidden: true });
    this.move = h('button', { type: 'button', id: 'ev-move', class: 'primary', hidden: true, 'aria-describedby': 'ev-seat' });
    this.soundLine = h('p', { id: 'ev-sound', class: 'ev-sound', role: 'status' });
    this.soundButton = h('button', { type: 'button', id: 'ev-sound-on', class: 'primary', hidden: true });
    this.speakLine = h('p', { id: 'ev-speak', class: 'ev-speak', role: 'status' });
    this.errorEl = h('p', { id: 'ev-error', class: 'error', role: 'alert' });
    this.mic = h('button', { type: 'button', id: 'ev-mic', class: 'secondary', hidden: true, 'aria-pressed': 'false' });
    this.hand = h('button', { type: 'button', id: 'ev-hand', class: 'secondary', 'aria-pressed': 'false' });
    this.leave = h('button', { type: 'button', id: 'ev-leave', class: 'secondary' });
    this.stageHeading = h('h3', { id: 'ev-stage-heading' });
    this.stageList = h('ul', { id: 'ev-stage', class: 'plain-list ev-on-stage', 'aria-labelledby': 'ev-stage-heading' });
    this.slideImg = h('img', { id: 'ev-slide-img', class: 'ev-slide-img', alt: '', hidden: true });
    this.slideCaption = h('figcaption', { id: 'ev-slide-caption' });
    this.slide = h('figure', { id: 'ev-slide', class: 'ev-slide' }, this.slideImg, this.slideCaption);
    this.capToggle = h('input', { type: 'checkbox', id: 'ev-captions-on', checked: true });
    this.capToggleLabel = h('label', { for: 'ev-captions-on' });
    this.capLine = h('p', { id: 'ev-caption-line', class: 'ev-caption-line', 'aria-hidden': 'true' });
    this.capLive = h('div', { id: 'ev-captions-live', class: 'visually-hidden', 'aria-live': 'polite', 'aria-atomic': 'false' });
    this.capHeading = h('h3', { id: 'ev-captions-heading' });
    this.body = h('div', { class: 'ev-body' });
    this.panel = h('section', { id: 'ev-panel', class: 'panel ev-panel', hidden: true, 'aria-labelledby': 'ev-heading' },
      this.heading, this.live, this.room, this.seat, this.move,
      this.soundLine, this.soundButton,
      this.speakLine,
      h('div', { class: 'actions' }, this.hand, this.mic, this.leave),
      this.errorEl,
      h('section', { class: 'staff-block', 'aria-labelledby': 'ev-captions-heading' },
        this.capHeading,
        h('div', { class: 'field-check' }, this.capToggle, this.capToggleLabel),
        this.capLine, this.capLive),
      h('section', { class: 'staff-block', 'aria-labelledby': 'ev-stage-heading' }, this.stageHeading, this.stageList, this.slide),
      this.body);
    root.append(this.panel);
    this.move.addEventListener('click', () => actions.move());
    this.soundButton.addEventListener('click', () => actions.sound());
    this.mic.addEventListener('click', () => actions.mic());
    this.hand.addEventListener('click', () => actions.hand());
    this.leave.addEventListener('click', () => actions.leave());
    this.capToggle.addEventListener('change', () => {
      this.captionsOn = this.capToggle.checked;
      if (!this.captionsOn) {
        this.capLine.textContent = '';
        this.capLive.replaceChildren();
      } else if (this.lastCaption) {
        this.capLine.textContent = this.lastCaption.text;
      }
      this.capLine.hidden = !this.captionsOn;
    });
  }

  focus() {
    this.heading.focus();
  }

  error(text) {
    this.errorEl.textContent = text || '';
  }

  caption(msg) {
    this.lastCaption = msg;
    if (!this.captionsOn) return;
    this.capLine.textContent = msg.text;
    this.capLine.dataset.final = msg.final ? 'true' : 'false';
    // Screen readers hear final lines only (a line being typed would be read over and over).
    if (msg.final) {
      this.capLive.append(h('p', {}, msg.text));
      while (this.capLive.childElementCount > 3) this.capLive.firstElementChild.remove();
    }
  }

  clearCaptions() {
    this.lastCaption = null;
    this.capLine.textContent = '';
    this.capLive.replaceChildren();
  }

  soundText(sound) {
    if (!sound) return '';
    if (sound.problem === 'listener_budget') return t('events.sound.budget');
    if (sound.problem) return t('events.sound.failed');
    if (sound.needsGesture) return t('events.sound.blocked');
    if (sound.publish === 'connected') return t('events.sound.on_stage');
    if (sound.path === 'ws') return sound.ws.state === 'on' ? t('events.sound.on') : t('events.sound.starting');
    if (sound.path === 'webrtc') return sound.listen === 'connected' ? t('events.sound.on') : t('events.sound.starting');
    return t('events.sound.starting');
  }

  speakText(v) {
    const you = v.you;
    const sound = v.sound;
    if (v.speaking) {
      if (sound?.mic === 'denied') return t('events.speak.mic_denied');
      if (sound?.mic === 'unavailable') return t('events.speak.mic_unavailable');
      if (sound?.publishProblem) return t('events.speak.failed');
      if (you?.muted) return t('events.speak.muted_by_host');
      const until = you?.until ? t('events.speak.until', { time: clock(you.until) }) : '';
      if (sound?.publish === 'connected') {
        return `${t(sound.micOn ? 'events.speak.live' : 'events.speak.mic_off')}${until ? ` ${until}` : ''}`;
      }
      return t('events.speak.connecting');
    }
    if (you?.invited) return t('events.speak.invited');
    if (you?.hand) return t('events.speak.hand_up');
    return '';
  }

  render(v) {
    const on = Boolean(v.event);
    this.panel.hidden = !on;
    if (!on) return;
    const focused = document.activeElement;
    this.draw(v);
    // A control that had the focus and went away (the hand, once on stage): the heading takes it.
    if (focused && focused !== this.heading && this.panel.contains(focused) && focused.closest('[hidden]')) this.heading.focus();
  }

  draw(v) {
    this.heading.textContent = eventTitle(v.event);
    const room = instanceLabel(v.instance, v.counts);
    this.room.textContent = t('events.room', { room });
    if (this.lastRoom !== null && this.lastRoom !== v.instance) say(this.live, t('events.room', { room }));
    this.lastRoom = v.instance;
    const free = v.instance > 0 ? mainSeatsFree(v.counts) : 0;
    this.seat.hidden = !free;
    this.seat.textContent = free ? t('events.seat_free', { n: free }) : '';
    this.move.hidden = !free;
    this.move.textContent = t('events.move_main');

    this.soundLine.textContent = this.soundText(v.sound);
    this.soundLine.dataset.path = v.sound?.path ?? '';
    this.soundButton.hidden = !v.sound?.needsGesture;
    this.soundButton.textContent = t('events.sound.turn_on');

    this.speakLine.textContent = this.speakText(v);
    this.speakLine.hidden = !this.speakLine.textContent;
    const micShown = v.speaking && v.sound?.publish === 'connected';
    this.mic.hidden = !micShown;
    this.mic.textContent = t('events.speak.mute_me');
    this.mic.setAttribute('aria-pressed', micShown && !v.sound.micOn ? 'true' : 'false');

    this.hand.hidden = Boolean(v.host || v.speaking); // on stage, a hand means nothing
    this.hand.textContent = t('events.hand');
    this.hand.setAttribute('aria-pressed', v.you?.hand ? 'true' : 'false');
    this.leave.textContent = t('events.leave');

    this.capHeading.textContent = t('events.captions.heading');
    this.capToggleLabel.textContent = t('events.captions.show');

    this.stageHeading.textContent = t('events.stage.heading');
    const speakers = v.stage?.speakers || [];
    this.stageList.replaceChildren(...(speakers.length
      ? speakers.map((p) => h('li', { dataset: { id: p.id } }, p.name || '?',
        p.role && p.role !== 'citizen' ? ` (${t(`role.${p.role}`)})` : ''))
      : [h('li', { class: 'hint' }, t('events.stage.nobody'))]));
    const slide = v.stage?.slide;
    this.slideImg.hidden = !slide?.url;
    if (slide?.url) {
      if (this.slideImg.getAttribute('src') !== slide.url) this.slideImg.src = slide.url;
      this.slideImg.alt = t('events.slide.alt', { page: slide.page, pages: slide.pages, title: eventTitle(v.event) });
      if (slide.width && slide.height) {
        this.slideImg.width = 320;
        this.slideImg.height = Math.round((320 * slide.height) / slide.width);
      }
    } else {
      this.slideImg.removeAttribute('src');
    }
    this.slideCaption.textContent = slide ? t('events.slide.page', { page: slide.page, pages: slide.pages }) : t('events.stage.no_slides');
  }
}

// The invitation to speak: a modal dialog asking for consent before the
// microphone may open. A host's promotion (event_you.invited) opens it; so does
// being allowed to speak without having been asked here (a listed speaker).
//
// A native modal <dialog>: the rest of the page is inert, focus starts on the
// dialog's heading and Tab cycles between its two buttons (kept inside by hand
// too), Escape declines. Nothing opens the microphone but "Accept".
//
//   const consent = new ConsentDialog({ onAnswer(accept), onShow(texts), onHide() });
//                     // onShow/onHide: the same question elsewhere (xr-consent.js in VR)
//   consent.open({ seconds, title });   // seconds: 0 = until a host ends it
//   consent.close();                    // the invitation went away (demoted, left)
//   consent.isOpen

import { t } from '../../core/i18n.js';
import { h } from './dom.js';

export class ConsentDialog {
  constructor({ onAnswer, onShow = () => {}, onHide = () => {} }) {
    this.onAnswer = onAnswer;
    this.onShow = onShow;
    this.onHide = onHide;
    this.info = null;
    this.opener = null;
    this.heading = h('h2', { id: 'ev-consent-heading', tabindex: '-1' });
    this.text = h('p', { id: 'ev-consent-text' });
    this.note = h('p', { id: 'ev-consent-note', class: 'hint' });
    this.accept = h('button', { type: 'button', id: 'ev-consent-accept', class: 'primary' });
    this.decline = h('button', { type: 'button', id: 'ev-consent-decline', class: 'secondary' });
    this.dialog = h('dialog', {
      id: 'ev-consent', class: 'ev-consent', 'aria-labelledby': 'ev-consent-heading',
      'aria-describedby': 'ev-consent-text ev-consent-note', 'data-own-keys': true,
    }, this.heading, this.text, this.note, h('div', { class: 'actions' }, this.accept, this.decline));
    document.body.append(this.dialog);
    this.accept.addEventListener('click', () => this.answer(true));
    this.decline.addEventListener('click', () => this.answer(false));
    // Escape: the browser's cancel; it declines (never silently accepts or lingers).
    this.dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      this.answer(false);
    });
    this.dialog.addEventListener('keydown', (e) => {
      if (e.key !== 'Tab') return;
      const stops = [this.accept, this.decline];
      const i = stops.indexOf(document.activeElement);
      e.preventDefault();
      const next = i < 0 ? (e.shiftKey ? stops.length - 1 : 0) : (i + (e.shiftKey ? -1 : 1) + stops.length) % stops.length;
      stops[next].focus();
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  render() {
    if (!this.info) return;
    const { seconds, title, ask } = this.info;
    this.heading.textContent = t(ask ? 'events.consent.heading_allowed' : 'events.consent.heading');
    this.text.textContent = seconds
      ? t('events.consent.text_timed', { title, s: seconds })
      : t('events.consent.text', { title });
    this.note.textContent = t('events.consent.note');
    this.accept.textContent = t('events.consent.accept');
    this.decline.textContent = t('events.consent.decline');
    if (this.dialog.open) this.onShow(this.texts());
  }

  /** The question as shown, for another rendering of it. */
  texts() {
    return {
      heading: this.heading.textContent, text: this.text.textContent, note: this.note.textContent,
      accept: this.accept.textContent, decline: this.decline.textContent,
    };
  }

  /** Ask. `ask`: already allowed to speak, not invited (a listed speaker). */
  open({ seconds = 0, title = '', ask = false } = {}) {
    this.info = { seconds, title, ask };
    if (!this.dialog.open) {
      this.opener = document.activeElement;
      this.dialog.showModal();
    }
    this.render();
    this.heading.focus();
  }

  answer(accept) {
    if (!this.dialog.open) return;
    this.close();
    this.onAnswer(accept);
  }

  close() {
    if (!this.dialog.open) return;
    this.dialog.close();
    this.onHide();
    const back = this.opener;
    this.opener = null;
    if (back?.isConnected && !back.closest('[hidden]')) back.focus();
  }
}

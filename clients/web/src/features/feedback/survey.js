// The survey dialog: "How was your visit?" after a case, or at a feedback kiosk.
//
//   const dialog = new SurveyDialog({ send, errorText, onDone });
//   dialog.open(msg);        // a `survey` from the server: the dialog opens, focus moves to it
//   dialog.done(msg);        // `survey_done`: closes (onDone(answered) says thanks)
//   dialog.showError(code);  // an `error` whose ref is survey_answer
//   dialog.abandon();        // out of the hall: closes without declining
//
// A native modal <dialog>: the rest of the page is inert while it is open, Tab
// stays inside, Escape closes it. Closing it without answering (Escape, "No
// thanks") sends survey_dismiss. Satisfaction is a radio group of five faces,
// each with its text; "Was it easy?" and the comment are optional. The comment
// has a visible character count; screen readers hear it only near the limit.

import { localName, onLanguageChange, t } from '../../core/i18n.js';
import { deskById, deskName, serviceById } from '../../world.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

export const MAX_COMMENT = 1000;
/** Remaining characters at which the count is also announced. */
const ANNOUNCE_AT = [100, 50, 10, 0];
/** Codes of a malformed answer (the server's field checks). */
const FIELD_ERRORS = new Set(['bad_field', 'out_of_range', 'missing_field', 'unknown_field', 'too_long', 'not_finite']);
/** After these the survey cannot be answered any more: closing sends nothing. */
const FINAL_ERRORS = new Set(['no_survey', 'already_answered']);

/** A face for a rating 1..5: the mouth curves from a frown to a smile. */
function face(rating) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('face');
  const el = (name, attrs) => {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    svg.append(node);
  };
  el('circle', { cx: 12, cy: 12, r: 10.5, class: 'face-head' });
  el('circle', { cx: 8.5, cy: 9.5, r: 1.3, class: 'face-eye' });
  el('circle', { cx: 15.5, cy: 9.5, r: 1.3, class: 'face-eye' });
  const bend = (rating - 3) * 2.2; // -4.4 (frown) .. +4.4 (smile)
  const y = 16 - bend / 3;
  el('path', { d: `M 7.5 ${y} Q 12 ${y + bend} 16.5 ${y}`, class: 'face-mouth' });
  return svg;
}

function radio(name, value, labelKey, withFace) {
  const label = document.createElement('label');
  label.className = 'scale-choice';
  const input = document.createElement('input');
  input.type = 'radio';
  input.name = name;
  input.value = String(value);
  const text = document.createElement('span');
  text.className = 'scale-text';
  text.dataset.i18n = labelKey;
  text.textContent = t(labelKey);
  label.append(input);
  if (withFace) label.append(face(value));
  label.append(text);
  return label;
}

export class SurveyDialog {
  constructor({ send, errorText, world, onDone }) {
    this.send = send;
    this.errorText = errorText;
    this.world = world;
    this.onDone = onDone;
    this.dialog = $('survey-dialog');
    this.form = $('survey-form');
    this.heading = $('survey-heading');
    this.intro = $('survey-intro');
    this.comment = $('survey-comment');
    this.count = $('survey-count');
    this.countLive = $('survey-count-live');
    this.shareRow = $('survey-share-row');
    this.share = $('survey-share');
    this.shareLabel = $('survey-share-label');
    this.error = $('survey-error');
    this.sendButton = $('survey-send');
    this.survey = null; // the open `survey` message
    this.state = 'closed'; // closed | open | sending | answered | dismissed | dead (cannot be answered)
    this.errorCode = null;
    this.lastAnnounced = null;

    const ratings = $('survey-rating-choices');
    for (let r = 1; r <= 5; r += 1) ratings.append(radio('survey-rating', r, `survey.rating.${r}`, true));
    const easy = $('survey-easy-choices');
    for (let r = 1; r <= 5; r += 1) easy.append(radio('survey-easy', r, `survey.easy.${r}`, false));
    this.comment.maxLength = MAX_COMMENT;

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.form.addEventListener('change', (e) => {
      if (e.target.name === 'survey-rating' && this.errorCode === 'choose') this.showError(null);
    });
    $('survey-skip').addEventListener('click', () => this.dialog.close());
    this.comment.addEventListener('input', () => this.renderCount(true));
    // Escape, "No thanks", or closing by any other means: a survey still open is declined.
    this.dialog.addEventListener('close', () => this.closed());
    onLanguageChange(() => {
      this.render();
      if (this.errorCode) this.showError(this.errorCode);
    });
    this.renderCount(false);
  }

  setWorld(world) {
    this.world = world;
    this.render();
  }

  get isOpen() {
    return this.dialog.open;
  }

  /** A `survey` from the server (a newer one replaces one still open, which is declined). */
  open(msg) {
    if (this.dialog.open && this.survey && this.state === 'open' && this.survey.survey !== msg.survey) {
      this.send({ t: 'survey_dismiss', survey: this.survey.survey });
    }
    if (this.dialog.open && this.survey?.survey === msg.survey) {
      // The same survey again (a resumed session): keep what was typed.
      this.survey = { ...msg };
      this.render();
      return;
    }
    this.survey = { ...msg };
    this.state = 'open';
    this.form.reset();
    this.showError(null);
    this.lastAnnounced = null;
    this.countLive.textContent = '';
    this.render();
    this.renderCount(false);
    if (!this.dialog.open) this.dialog.showModal();
    this.heading.focus();
  }

  /** `survey_done`: the server has the answer (or the refusal). */
  done(msg) {
    if (!this.survey || msg.survey !== this.survey.survey) return;
    const answered = Boolean(msg.answered);
    this.state = answered ? 'answered' : 'dismissed';
    this.survey = null;
    if (this.dialog.open) this.dialog.close();
    this.onDone?.(answered);
  }

  /** Out of the hall: close without declining (the server offers it again on return). */
  abandon() {
    this.survey = null;
    this.state = 'closed';
    if (this.dialog.open) this.dialog.close();
  }

  /** The dialog closed: decline the survey unless it was sent or can no longer be answered. */
  closed() {
    if (this.dialog.open) return; // shown again for a newer survey
    if (this.survey && this.state === 'open') {
      this.send({ t: 'survey_dismiss', survey: this.survey.survey });
      this.state = 'dismissed';
    }
    // An answer on its way keeps the survey until `survey_done` (the thanks).
    if (this.state !== 'sending') this.survey = null;
  }

  submit() {
    if (!this.survey || this.state === 'dead') return;
    const rating = Number(this.form.querySelector('input[name=survey-rating]:checked')?.value);
    if (!rating) {
      this.showError('choose');
      this.form.querySelector('input[name=survey-rating]')?.focus();
      return;
    }
    const msg = { t: 'survey_answer', survey: this.survey.survey, rating };
    const easy = Number(this.form.querySelector('input[name=survey-easy]:checked')?.value);
    if (easy) msg.easy = easy;
    const comment = this.comment.value.trim();
    if (comment) msg.comment = [...comment].slice(0, MAX_COMMENT).join('');
    if (!this.shareRow.hidden && comment) msg.share = this.share.checked;
    this.showError(null);
    if (this.send(msg)) {
      this.state = 'sending';
      this.sendButton.disabled = true;
    } else {
      this.showError('offline');
    }
  }

  /** code: a server error code, 'choose' (no rating), 'offline', or null to clear. */
  showError(code) {
    this.errorCode = code;
    if (code && FINAL_ERRORS.has(code)) this.state = 'dead';
    else if (code && this.state === 'sending') this.state = 'open';
    this.sendButton.disabled = this.state === 'dead' || this.state === 'sending';
    const fieldset = $('survey-rating');
    if (code === 'choose') fieldset.setAttribute('aria-invalid', 'true');
    else fieldset.removeAttribute('aria-invalid');
    let text = '';
    if (code === 'choose') text = t('survey.choose');
    else if (code === 'offline') text = t('survey.offline');
    else if (code && FIELD_ERRORS.has(code)) text = t('survey.invalid', { max: MAX_COMMENT });
    else if (code) text = this.errorText(code);
    this.error.textContent = text;
  }

  render() {
    const s = this.survey;
    if (!s) return;
    const w = this.world;
    const service = s.service && serviceById(w, s.service);
    const desk = s.desk && deskById(w, s.desk);
    if (s.kind === 'case') {
      this.heading.textContent = t('survey.heading_case');
      this.intro.textContent = t('survey.intro_case', {
        desk: desk ? deskName(desk) : (s.desk || ''),
        service: service ? localName(service.name) : (s.service || ''),
        known: desk || s.desk ? 'yes' : 'no',
      });
    } else {
      this.heading.textContent = t('survey.heading_kiosk');
      this.intro.textContent = t('survey.intro_kiosk');
    }
    const canShare = s.kind === 'case' && Boolean(s.staff_name);
    this.shareRow.hidden = !canShare;
    if (canShare) this.shareLabel.textContent = t('survey.share', { staff: s.staff_name });
  }

  /** The visible count; announced (politely) when crossing 100, 50, 10 and 0 left. */
  renderCount(typed) {
    const used = [...this.comment.value].length;
    const left = Math.max(0, MAX_COMMENT - used);
    this.count.textContent = t('survey.count', { n: used, max: MAX_COMMENT });
    this.count.dataset.near = left <= ANNOUNCE_AT[0] ? 'true' : 'false';
    if (!typed) return;
    const mark = ANNOUNCE_AT.find((m) => left <= m && left > m - (m === 0 ? 1 : 10)) ?? null;
    if (mark !== null && mark !== this.lastAnnounced) {
      this.lastAnnounced = mark;
      this.countLive.textContent = t('survey.left', { n: left });
    } else if (mark === null) {
      this.lastAnnounced = null;
    }
  }

  snapshot() {
    return {
      open: this.dialog.open,
      state: this.state,
      survey: this.survey ? { ...this.survey } : null,
      error: this.errorCode,
    };
  }
}

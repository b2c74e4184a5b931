// Feedback: the survey after a case (or at a feedback kiosk), and, for staff,
// the comments citizens chose to share with them.
//
// Messages: survey, survey_done, feedback_shared.
// Sends: survey_answer, survey_dismiss, survey_request.
// Errors shown next to their control: survey_answer, survey_dismiss (quietly),
// survey_request (in the kiosk panel).
// Test hook: survey ({open, state, survey, error}), feedbackKiosk (kiosk id or
// null), sharedFeedback ([{service, rating, comment}]).

import { t } from '../../core/i18n.js';
import { CATALOGUE } from '../../protocol/catalogue.js';
import { FeedbackKiosks } from './kiosk.js';
import { SharedFeedback } from './shared.js';
import { SurveyDialog } from './survey.js';

export const name = 'feedback';
export const messages = new URL('./messages/', import.meta.url);

/** May this role send `type` (per the generated catalogue)? */
const allowed = (type, role) => CATALOGUE.client[type]?.roles.includes(role) ?? false;

export function install(app) {
  const send = (m) => app.send(m);
  const errorText = (code) => app.errorText(code);
  const announce = (text) => app.announce(text);

  const dialog = new SurveyDialog({
    send,
    errorText,
    onDone: (answered) => {
      if (!answered) return;
      app.notice(t('survey.thanks'));
      announce(t('survey.thanks'));
    },
  });
  const kiosks = new FeedbackKiosks({ send, errorText, announce });
  const shared = new SharedFeedback();

  function render() {
    const inHall = Boolean(app.self);
    kiosks.setEnabled(inHall && allowed('survey_request', app.role));
    shared.show(inHall && app.isStaff);
  }

  app.onWelcome((msg) => {
    if (!msg.resumed) shared.clear();
    dialog.setWorld(app.world);
    kiosks.setWorld(app.world);
    shared.setWorld(app.world);
  });
  app.onJoined(render);
  app.onLeft(() => {
    dialog.abandon();
    shared.clear();
    render();
  });
  app.onFrame(() => {
    const local = app.local;
    if (app.self && local) kiosks.near(local.x, local.z);
  });

  app.on('survey', (msg) => dialog.open(msg));
  app.on('survey_done', (msg) => dialog.done(msg));
  app.on('feedback_shared', (msg) => shared.add(msg));

  app.onError('survey_answer', (msg) => {
    if (!dialog.isOpen) return false;
    dialog.showError(msg.code);
    return true;
  });
  // Declining a survey the server no longer has is nothing the person needs to hear.
  app.onError('survey_dismiss', () => true);
  app.onError('survey_request', (msg) => {
    if (!kiosks.kioskId) return false;
    kiosks.showError(msg.code);
    return true;
  });

  app.expose(() => ({
    survey: dialog.snapshot(),
    feedbackKiosk: kiosks.kioskId,
    sharedFeedback: shared.entries.map(({ service, rating, comment }) => ({ service, rating, comment })),
  }));
}

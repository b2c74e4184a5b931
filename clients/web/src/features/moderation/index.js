// Moderation: official announcements (the chat panel's "announcement" scope,
// offered only to roles the catalogue allows to send `announce`), and being
// removed: the server's `bye` before a KICKED close carries the moderator's
// reason, which the join form then shows after the sentence for the close.
//
// Messages: announce, bye. Needs: 'chat'.

import { t } from '../../core/i18n.js';
import { CATALOGUE } from '../../protocol/catalogue.js';
import { closeReason } from '../../ui.js';

export const name = 'moderation';
export const messages = new URL('./messages/', import.meta.url);

/** The reason the server gives when the moderator typed none. */
const DEFAULT_REASONS = new Set(['removed by a moderator']);

export function install(app) {
  const chat = app.service('chat');
  chat.addScope('announce', (text) => app.send({ t: 'announce', text }));
  let byeReason = null;

  app.onWelcome(() => { byeReason = null; });
  app.onJoined(() => {
    chat.allowScope('announce', CATALOGUE.client.announce?.roles.includes(app.role) ?? false);
  });
  app.on('announce', (msg) => chat.announce(msg));
  app.on('bye', (msg) => { byeReason = msg.reason ?? null; });

  app.onClosed((detail) => {
    const reason = byeReason;
    byeReason = null;
    if (detail.name !== 'KICKED' || !reason || DEFAULT_REASONS.has(reason)) return undefined;
    return `${closeReason(detail)} ${t('moderation.reason', { reason })}`;
  });
}

// Chat: the chat panel (near / zone), the zone's recent history on entering it,
// and the page's own notices (which is where errors no feature shows end up).
//
// Messages: chat, history. Services: 'chat' (the ChatPanel), 'notice'.
// Test hook: chatLog.

import { t } from '../../core/i18n.js';
import { ChatPanel } from './panel.js';

export const name = 'chat';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);

export function install(app) {
  const chat = new ChatPanel(
    {
      form: $('chat-form'), input: $('chat-input'), log: $('chat-log'), lines: $('chat-lines'),
      history: $('chat-history'), empty: $('chat-empty'),
      scopeInputs: [...document.querySelectorAll('#chat-form input[name=scope]')],
    },
    { send: (scope, text) => app.send({ t: 'chat', scope, text }) },
  );
  app.provide('chat', chat);
  app.provide('notice', (text) => chat.notice(text));

  const show = (inHall) => {
    $('chat-panel').hidden = !inHall;
    $('skip-chat').hidden = !inHall;
  };

  app.on('chat', (msg) => chat.line(msg));
  app.on('history', (msg) => chat.history(msg.items));
  app.onJoined((msg) => {
    show(true);
    chat.notice(t('chat.joined', { name: msg.name }));
  });
  app.onLeft(() => {
    chat.clear();
    show(false);
  });

  app.expose(() => ({ chatLog: chat.entries.map((e) => ({ ...e })) }));
}

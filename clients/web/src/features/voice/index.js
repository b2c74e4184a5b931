// Voice at the desk: DeskVoice, the WebRTC connection with the server for a
// desk call (signalling over our WebSocket: rtc_offer / rtc_answer, mute,
// hangup). It has no panel of its own: the desks feature's in-call bar starts
// and stops it and shows its state and errors.
//
// Messages: rtc_answer. Errors: rtc_offer (the attempt fails), mute, hangup.
// Services: 'voice' (the DeskVoice). Test hook: voice; voiceStats().

import { DeskVoice } from './voice.js';

export const name = 'voice';
export const messages = new URL('./messages/', import.meta.url);

export function install(app) {
  const voice = app.provide('voice', new DeskVoice({
    send: (m) => app.send(m),
    audio: document.getElementById('call-audio'),
  }));

  app.on('rtc_answer', (msg) => voice.answer(msg.sdp));
  app.onError('rtc_offer', (msg) => {
    voice.refused();
    return voice.report(msg.code);
  });
  for (const ref of ['mute', 'hangup']) app.onError(ref, (msg) => voice.report(msg.code));
  app.onLeft(() => voice.stop());
  app.onWelcome((msg) => { if (!msg.resumed) voice.stop(); });

  app.expose(
    () => ({ voice: { state: voice.state, mic: voice.mic, muted: voice.muted, joined: voice.joined } }),
    { voiceStats: () => voice.stats() },
  );
}

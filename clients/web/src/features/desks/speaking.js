// The speaking indicator in a desk call: who of its members is heard, from the
// call's WebRTC stats (speaking.js), shown by the view (view.setSpeaking).
// Oneself: the microphone's level (not while muted). The others: what arrives
// from the server; with one other member it is theirs. With more (an interpreter
// joined) the server's streams do not say whose voice each is, so the others
// show no indicator then.
//
//   watchDeskSpeaking(app, voice, callBar);

import { Heard, RtcMeter } from '../../speaking.js';

const POLL_S = 0.15;

export function watchDeskSpeaking(app, voice, callBar) {
  const heard = new Heard((id, on) => app.view.setSpeaking(id, on));
  const meter = new RtcMeter();
  let busy = false;
  let lastS = -Infinity;
  app.onFrame((nowS) => {
    if (busy || nowS - lastS < POLL_S) return;
    lastS = nowS;
    const pc = voice.pc;
    if (!pc || !callBar.active || voice.state !== 'connected') {
      heard.clear();
      return;
    }
    busy = true;
    meter.read(pc).then(({ source, inbound }) => {
      if (voice.pc !== pc) return;
      const heardNow = new Set();
      const self = app.self?.id;
      if (self !== undefined && self !== null) {
        heard.level(self, voice.muted ? 0 : source ?? 0, nowS);
        heardNow.add(self);
      }
      const others = callBar.others();
      if (others.length === 1) {
        heard.level(others[0].id, Math.max(0, ...inbound), nowS);
        heardNow.add(others[0].id);
      }
      heard.only(heardNow);
    }, () => {}).finally(() => { busy = false; });
  });
  app.onLeft(() => heard.clear());
}

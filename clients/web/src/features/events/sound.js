// The stage's sound for one attendee: how to listen, and speaking.
//
// Listening: the WebSocket path (listen.js) wherever WebCodecs' AudioDecoder
// exists, else WebRTC (rtc.js, mode 'listen'). A WebRTC listen refused with
// `listener_budget` (this server's WebRTC listeners are used up) goes to the
// WebSocket path when it can. The choice can be forced for a test or a person
// who needs it: localStorage 'servicepoint.events.path' = 'ws' | 'webrtc'.
//
// Speaking: publish() opens the microphone and the publish connection; the
// caller calls it only after consent (or for a host). While the publish
// connection is up, the speaker hears the others on it, so the listening path
// is silenced (never one's own voice, never the others twice).
//
//   const sound = new StageSound({ send, audioHost, selfId: () => id, onChange });
//   sound.prepare();            // in the click that joins: the AudioContext may start
//   sound.listen();             // after event_joined
//   sound.audio(msg);           // event_audio
//   sound.answer(mode, sdp);    // event_rtc_answer
//   sound.refused(code) -> bool // an error about event_rtc_offer / event_listen
//   sound.publish(); sound.unpublish(); sound.setMicOn(on);
//   sound.stop();               // left the event
//   sound.level(id?)            // the WebSocket path's output level (RMS, last 500 ms)

import { WsListener, wsListenSupported } from './listen.js';
import { StageRtc } from './rtc.js';

const PATH_KEY = 'servicepoint.events.path';

function forcedPath() {
  try {
    const v = globalThis.localStorage?.getItem(PATH_KEY);
    return v === 'ws' || v === 'webrtc' ? v : null;
  } catch {
    return null;
  }
}

export class StageSound {
  constructor({ send, audioHost, selfId, onChange = () => {} }) {
    this.sendFn = send;
    this.selfId = selfId;
    this.onChange = onChange;
    this.ws = new WsListener({ onChange: (what) => this.changed(what) });
    this.rtc = new StageRtc({ send, host: audioHost, onChange: () => this.changed() });
    this.path = null; // 'ws' | 'webrtc' | null
    this.problem = null; // an error code about listening (listener_budget without WebCodecs, ...)
    this.pending = []; // modes of offers sent and not yet answered, in order
    this.wantListen = false;
    const send0 = this.rtc.send;
    this.rtc.send = (msg) => {
      const ok = send0(msg);
      if (ok && msg.t === 'event_rtc_offer') this.pending.push(msg.mode);
      return ok;
    };
  }

  changed(what) {
    // While our publish connection carries the stage to us, the listening path is quiet.
    const speaking = this.rtc.state('publish') === 'connected';
    if (this.ws.muted !== speaking) this.ws.setMuted(speaking);
    if (this.rtc.listenMuted !== speaking) this.rtc.setListenMuted(speaking);
    this.onChange(what);
  }

  choosePath() {
    const forced = forcedPath();
    if (forced === 'webrtc') return 'webrtc';
    if (forced === 'ws' && wsListenSupported()) return 'ws';
    return wsListenSupported() ? 'ws' : 'webrtc';
  }

  /** In the user's click: start the audio output for the WebSocket path (autoplay rules). */
  prepare() {
    if (this.choosePath() === 'ws' && this.ws.state === 'off') this.ws.start();
  }

  async listen() {
    this.wantListen = true;
    this.problem = null;
    const path = this.choosePath();
    if (path === 'ws') await this.listenWs();
    else {
      this.path = 'webrtc';
      this.changed();
      await this.rtc.listen();
    }
  }

  async listenWs() {
    this.path = 'ws';
    await this.ws.start();
    if (!this.wantListen) return;
    if (this.ws.state !== 'on') {
      this.problem = 'no_sound';
      this.changed();
      return;
    }
    this.sendFn({ t: 'event_listen', path: 'ws' });
    this.changed();
  }

  audio(msg) {
    if (this.path !== 'ws') return;
    this.ws.packets(msg.p, this.selfId());
  }

  answer(mode, sdp) {
    const i = this.pending.indexOf(mode);
    if (i >= 0) this.pending.splice(i, 1);
    this.rtc.answer(mode, sdp);
  }

  /** An error about event_rtc_offer: it refers to the oldest offer not yet answered. */
  refused(code) {
    const mode = this.pending.shift() ?? (this.rtc.state('publish') === 'connecting' ? 'publish' : 'listen');
    this.rtc.refused(mode);
    if (mode === 'listen' && code === 'listener_budget') {
      if (wsListenSupported()) {
        this.listenWs();
        return true;
      }
      this.problem = code;
    } else if (mode === 'listen') {
      this.problem = code;
    } else {
      this.publishProblem = code;
    }
    this.changed();
    return false;
  }

  async publish() {
    this.publishProblem = null;
    await this.rtc.publish();
  }

  unpublish() {
    if (this.rtc.publishing) {
      this.rtc.closePublish();
      this.sendFn({ t: 'event_rtc_leave' });
      // The listening connection, if it is WebRTC, went with it on the server: listen again.
      if (this.path === 'webrtc' && this.wantListen) {
        this.rtc.closeListen();
        this.rtc.listen();
      }
    }
  }

  setMicOn(on) {
    this.rtc.setMicOn(on);
  }

  resume() {
    this.ws.resume();
    this.rtc.resumePlayback();
  }

  get needsGesture() {
    return (this.path === 'ws' && this.ws.suspended) || this.rtc.blocked;
  }

  stop() {
    // Leaving the event ends both paths on the server: nothing to tell it here.
    this.wantListen = false;
    this.ws.stop();
    this.rtc.close();
    this.pending = [];
    this.path = null;
    this.problem = null;
    this.publishProblem = null;
    this.changed();
  }

  level(speaker) {
    return this.ws.level(speaker);
  }

  snapshot() {
    return {
      path: this.path,
      problem: this.problem,
      publishProblem: this.publishProblem ?? null,
      ws: this.ws.snapshot(),
      listen: this.rtc.state('listen'),
      publish: this.rtc.state('publish'),
      mic: this.rtc.mic,
      micOn: this.rtc.micOn,
      micOpen: this.rtc.micOpen,
      needsGesture: this.needsGesture,
    };
  }
}

// WebRTC to the stage (the server's aiortc is the only peer; nobody sees anybody's
// address). Two connections, each independent of the other:
//
//   listen:  three recvonly audio m-lines (the loudest speakers), for browsers
//            without WebCodecs (the WebSocket path needs its AudioDecoder);
//   publish: a speaker's microphone (sendrecv) plus two recvonly m-lines, so a
//            speaker hears the other speakers on the same connection.
//
//   const rtc = new StageRtc({ send, host: element, onChange });
//   await rtc.listen();                 // offer mode 'listen'
//   await rtc.publish();                // getUserMedia, offer mode 'publish'
//   rtc.answer(mode, sdp);              // event_rtc_answer
//   rtc.refused(mode);                  // an error about the offer (listener_budget, not_speaker, ...)
//   rtc.setMicOn(false);                // the track is disabled (the host muted us, or we did)
//   rtc.closePublish(); rtc.closeListen(); rtc.close();
//   rtc.setListenMuted(true);           // the listen connection's players are silent (while we publish)
//   await rtc.stats()                   // {listen: {...}, publish: {...}} from getStats()
//
// Signalling is our WebSocket, without trickle ICE: the offer goes once gathering
// is complete. state per connection: off | starting | connecting | connected | failed;
// mic: null | ok | denied | unavailable.

import { audioStats, iceGatheringComplete } from '../../core/rtc.js';

class Leg {
  constructor(mode) {
    this.mode = mode;
    this.pc = null;
    this.state = 'off';
    this.players = [];
    this.generation = 0;
  }
}

export class StageRtc {
  constructor({ send, host, onChange = () => {} }) {
    this.send = send;
    this.host = host;
    this.onChange = onChange;
    this.legs = { listen: new Leg('listen'), publish: new Leg('publish') };
    this.stream = null;
    this.mic = null;
    this.micOn = true;
    this.listenMuted = false;
    this.blocked = false; // autoplay refused
  }

  get listening() { return this.legs.listen.state !== 'off'; }
  get publishing() { return this.legs.publish.state !== 'off'; }
  state(mode) { return this.legs[mode].state; }

  set(leg, state) {
    leg.state = state;
    this.onChange();
  }

  async listen() {
    const leg = this.legs.listen;
    if (leg.pc) return;
    const generation = ++leg.generation;
    this.set(leg, 'starting');
    const pc = new RTCPeerConnection({ iceServers: [] });
    leg.pc = pc;
    for (let i = 0; i < 3; i++) pc.addTransceiver('audio', { direction: 'recvonly' });
    await this.offer(leg, pc, generation);
  }

  /** Only after the person's consent (or as a host): asks for the microphone, then offers. */
  async publish() {
    const leg = this.legs.publish;
    if (leg.pc || leg.state === 'starting') return;
    const generation = ++leg.generation;
    this.set(leg, 'starting');
    let stream = null;
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new DOMException('no media devices', 'NotFoundError');
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        video: false,
      });
      this.mic = 'ok';
    } catch (e) {
      this.mic = e?.name === 'NotAllowedError' || e?.name === 'SecurityError' ? 'denied' : 'unavailable';
    }
    if (generation !== leg.generation) { // closed while the browser asked
      for (const track of stream?.getTracks() ?? []) track.stop();
      return;
    }
    if (!stream) {
      this.set(leg, 'failed');
      return;
    }
    this.stream = stream;
    const pc = new RTCPeerConnection({ iceServers: [] });
    leg.pc = pc;
    const track = stream.getAudioTracks()[0];
    track.enabled = this.micOn;
    pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    for (let i = 0; i < 2; i++) pc.addTransceiver('audio', { direction: 'recvonly' });
    await this.offer(leg, pc, generation);
  }

  async offer(leg, pc, generation) {
    pc.addEventListener('track', (e) => this.play(leg, e.track));
    pc.addEventListener('connectionstatechange', () => {
      if (leg.pc !== pc) return;
      if (pc.connectionState === 'connected') this.set(leg, 'connected');
      else if (pc.connectionState === 'failed') this.fail(leg);
    });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringComplete(pc);
    } catch {
      if (leg.pc === pc) this.fail(leg);
      return;
    }
    if (leg.pc !== pc || generation !== leg.generation) return;
    if (this.send({ t: 'event_rtc_offer', mode: leg.mode, sdp: pc.localDescription.sdp })) this.set(leg, 'connecting');
    else this.fail(leg);
  }

  async answer(mode, sdp) {
    const leg = this.legs[mode];
    const pc = leg?.pc;
    if (!pc || pc.signalingState !== 'have-local-offer') return;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } catch {
      if (leg.pc === pc) this.fail(leg);
    }
  }

  /** The server refused an offer of `mode`: this attempt is over. */
  refused(mode) {
    const leg = this.legs[mode];
    if (leg && (leg.pc || leg.state !== 'off')) this.fail(leg);
  }

  fail(leg) {
    this.closeLeg(leg);
    this.set(leg, 'failed');
  }

  play(leg, track) {
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.srcObject = new MediaStream([track]);
    audio.dataset.stage = leg.mode;
    audio.muted = leg.mode === 'listen' && this.listenMuted;
    this.host?.append(audio);
    leg.players.push(audio);
    audio.play().then(
      () => { if (this.blocked) { this.blocked = false; this.onChange(); } },
      (e) => {
        if (e?.name === 'NotAllowedError') {
          this.blocked = true;
          this.onChange();
        }
      },
    );
  }

  resumePlayback() {
    for (const leg of Object.values(this.legs)) for (const audio of leg.players) audio.play().catch(() => {});
    this.blocked = false;
    this.onChange();
  }

  setListenMuted(muted) {
    this.listenMuted = muted;
    for (const audio of this.legs.listen.players) audio.muted = muted;
  }

  /** The microphone's track on or off (it stays open; only the person's choice or the end closes it). */
  setMicOn(on) {
    this.micOn = on;
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = on;
    this.onChange();
  }

  closeLeg(leg) {
    leg.generation += 1;
    const pc = leg.pc;
    leg.pc = null;
    pc?.close();
    for (const audio of leg.players) {
      audio.srcObject = null;
      audio.remove();
    }
    leg.players = [];
    if (leg.mode === 'publish') {
      for (const track of this.stream?.getTracks() ?? []) track.stop();
      this.stream = null;
    }
  }

  closePublish() {
    const leg = this.legs.publish;
    this.closeLeg(leg);
    this.mic = null;
    this.set(leg, 'off');
  }

  closeListen() {
    const leg = this.legs.listen;
    this.closeLeg(leg);
    this.set(leg, 'off');
  }

  close() {
    this.closeLeg(this.legs.listen);
    this.closeLeg(this.legs.publish);
    this.legs.listen.state = 'off';
    this.legs.publish.state = 'off';
    this.mic = null;
    this.blocked = false;
    this.onChange();
  }

  /** Is the microphone open (a live track)? */
  get micOpen() {
    return Boolean(this.stream?.getAudioTracks().some((t) => t.readyState === 'live'));
  }

  async stats() {
    const out = {};
    for (const [mode, leg] of Object.entries(this.legs)) out[mode] = leg.pc ? await audioStats(leg.pc) : null;
    return out;
  }
}

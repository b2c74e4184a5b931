// Voice at the desk: one RTCPeerConnection with the server (aiortc), which is
// the only peer this page ever sees, so nobody learns anybody's IP address.
//
//   const voice = new DeskVoice({ send: (msg) => net.send(msg), audio: element });
//   voice.addEventListener('change', () => render(voice.state, voice.mic));
//   voice.start();              // on `call` active:true
//   voice.answer(sdp);          // on `rtc_answer`
//   voice.refused(code);        // an `error` about rtc_offer: this attempt failed
//   voice.report(code) -> bool  // an error about a voice message: did the page show it?
//   voice.setMuted(true);       // track.enabled=false here, `mute` to the server
//   voice.hangup();             // the person leaves the voice call (sends `hangup`)
//   voice.stop();               // the call ended: close the pc, stop the microphone
//   await voice.stats();        // {outbound:{bytesSent}, inbound:[{bytesReceived, audioLevel, totalAudioEnergy}]}
//
// Signalling is our own WebSocket and there is no trickle ICE: the offer is sent
// once ICE gathering is complete, with every candidate in it. The first audio
// m-line carries the microphone (sendrecv); one more is recvonly, so a third
// member (an interpreter) can be heard too: each other speaker arrives as its
// own track, played by its own <audio>. Without a microphone (denied, missing)
// both m-lines are recvonly: the person still hears the desk and can type.
//
// state: 'off' | 'starting' (asking for the microphone, gathering) |
//        'connecting' (offer sent) | 'connected' | 'failed'
// mic:   null | 'ok' | 'denied' | 'unavailable'

import { audioStats, iceGatheringComplete } from '../../core/rtc.js';

export class DeskVoice extends EventTarget {
  /** send(msg) -> bool sends a client message; audio: an element to hold the <audio>s. */
  constructor({ send, audio }) {
    super();
    this.send = send;
    this.audioHost = audio;
    this.pc = null;
    this.stream = null;
    this.state = 'off';
    this.mic = null;
    this.muted = false;
    this.joined = false; // the server answered: we are in its voice room
    this.blocked = false; // the browser refused to start playback without a gesture
    this.generation = 0;
    this.players = [];
  }

  get active() {
    return this.state !== 'off';
  }

  set(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('change'));
  }

  /** Ask for the microphone, make an offer with all candidates, send it. */
  async start() {
    if (this.pc || this.state === 'starting') return;
    const generation = ++this.generation;
    this.joined = false;
    this.set('starting');
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
    if (generation !== this.generation) { // stopped while the browser was asking
      for (const track of stream?.getTracks() ?? []) track.stop();
      return;
    }
    this.stream = stream;
    this.dispatchEvent(new CustomEvent('change')); // the page can say whether there is a microphone
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    const track = stream?.getAudioTracks()[0];
    if (track) {
      track.enabled = !this.muted;
      pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    } else {
      pc.addTransceiver('audio', { direction: 'recvonly' });
    }
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addEventListener('track', (e) => this.play(e.track));
    pc.addEventListener('connectionstatechange', () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === 'connected') this.set('connected');
      else if (pc.connectionState === 'failed') this.set('failed');
    });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringComplete(pc);
    } catch {
      if (this.pc === pc) this.fail();
      return;
    }
    if (this.pc !== pc) return;
    if (this.send({ t: 'rtc_offer', sdp: pc.localDescription.sdp })) this.set('connecting');
    else this.fail();
  }

  /** The server's answer to our offer. */
  async answer(sdp) {
    const pc = this.pc;
    if (!pc || pc.signalingState !== 'have-local-offer') return;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } catch {
      if (this.pc === pc) this.fail();
      return;
    }
    if (this.pc !== pc) return;
    this.joined = true;
    // Muted before the server knew us: tell it now.
    if (this.muted) this.send({ t: 'mute', muted: true });
    this.dispatchEvent(new CustomEvent('change'));
  }

  /** The server refused the offer (bad_sdp, no_audio, ...): give up this attempt. */
  refused() {
    if (this.pc) this.fail();
  }

  /**
   * An error about one of the voice messages: a cancelable 'error' event whose
   * listener (the in-call bar) shows it and calls preventDefault(). True when shown.
   */
  report(code) {
    return !this.dispatchEvent(new CustomEvent('error', { detail: { code }, cancelable: true }));
  }

  fail() {
    this.close();
    this.set('failed');
  }

  play(track) {
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.srcObject = new MediaStream([track]);
    this.audioHost.append(audio);
    this.players.push(audio);
    audio.play().then(
      () => { if (this.blocked) { this.blocked = false; this.dispatchEvent(new CustomEvent('change')); } },
      (e) => {
        // Autoplay refused (no user gesture yet): the page offers a button.
        if (e?.name === 'NotAllowedError') {
          this.blocked = true;
          this.dispatchEvent(new CustomEvent('change'));
        }
      },
    );
  }

  /** After a click: start every player the browser refused to autoplay. */
  resumePlayback() {
    for (const audio of this.players) audio.play().catch(() => {});
    this.blocked = false;
    this.dispatchEvent(new CustomEvent('change'));
  }

  /** Mute or unmute: locally at once, and on the server (it stops relaying us). */
  setMuted(muted) {
    this.muted = muted;
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = !muted;
    if (this.joined) this.send({ t: 'mute', muted });
    this.dispatchEvent(new CustomEvent('change'));
  }

  /** The person leaves the voice call; the desk call (and its text) goes on. */
  hangup() {
    if (this.joined) this.send({ t: 'hangup' });
    this.stop();
  }

  /** Close the connection and stop the microphone (the call ended or we left). */
  stop() {
    this.close();
    this.mic = null;
    this.blocked = false;
    this.set('off');
  }

  close() {
    this.generation += 1;
    const pc = this.pc;
    this.pc = null;
    this.joined = false;
    pc?.close();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    for (const audio of this.players) {
      audio.srcObject = null;
      audio.remove();
    }
    this.players = [];
  }

  /** A summary of getStats(): what we send, and each inbound audio stream. */
  async stats() {
    return this.pc ? audioStats(this.pc) : null;
  }
}

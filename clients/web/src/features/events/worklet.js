// The stage's listen-only mixer, an AudioWorkletProcessor ('stage-mixer').
//
// The main thread (listen.js) decodes each speaker's Opus with WebCodecs and
// posts mono PCM (48 kHz Float32Array) here, per speaker:
//
//   port.postMessage({ speaker, pcm }, [pcm.buffer]);   // decoded audio, in order
//   port.postMessage({ speaker, silence: samples });     // a small gap (lost packets)
//   port.postMessage({ flush: true });                   // forget everything (left, muted path)
//
// Each speaker has a jitter buffer: playback of a speaker starts once TARGET
// (80 ms) is buffered, and starts over (re-buffers) after running dry; when more
// than MAX (300 ms) piles up (a burst after a stall), the oldest audio is dropped
// back to TARGET, so the delay stays small. The speakers are summed (clipped to
// [-1, 1]) into every output channel.
//
// Every ~50 ms the processor posts the output's level back:
//   { level: rms of the mix, speakers: { id: rms of that speaker }, buffered: { id: ms } }

const TARGET_S = 0.08;
const MAX_S = 0.3;
const REPORT_S = 0.05;
const IDLE_S = 5; // a speaker silent this long is forgotten

class Speaker {
  constructor() {
    this.chunks = [];
    this.offset = 0; // read position in chunks[0]
    this.buffered = 0; // samples
    this.playing = false;
    this.idle = 0; // samples rendered since data last came
    this.sumSq = 0;
  }

  push(pcm) {
    this.chunks.push(pcm);
    this.buffered += pcm.length;
    this.idle = 0;
  }

  drop(samples) {
    while (samples > 0 && this.chunks.length) {
      const head = this.chunks[0];
      const left = head.length - this.offset;
      if (left <= samples) {
        this.chunks.shift();
        this.offset = 0;
        this.buffered -= left;
        samples -= left;
      } else {
        this.offset += samples;
        this.buffered -= samples;
        samples = 0;
      }
    }
  }

  /** Add up to mix.length samples into mix; returns the sum of squares added. */
  mixInto(mix) {
    let i = 0;
    let sumSq = 0;
    while (i < mix.length && this.chunks.length) {
      const head = this.chunks[0];
      const n = Math.min(mix.length - i, head.length - this.offset);
      for (let k = 0; k < n; k++) {
        const s = head[this.offset + k];
        mix[i + k] += s;
        sumSq += s * s;
      }
      i += n;
      this.offset += n;
      this.buffered -= n;
      if (this.offset >= head.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    return sumSq;
  }
}

class StageMixer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.speakers = new Map();
    this.target = Math.round(TARGET_S * sampleRate);
    this.max = Math.round(MAX_S * sampleRate);
    this.reportEvery = Math.round(REPORT_S * sampleRate);
    this.sinceReport = 0;
    this.sumSq = 0;
    this.mix = new Float32Array(128);
    this.port.onmessage = (e) => this.receive(e.data);
  }

  speaker(id) {
    let s = this.speakers.get(id);
    if (!s) {
      s = new Speaker();
      this.speakers.set(id, s);
    }
    return s;
  }

  receive(msg) {
    if (msg.flush) {
      this.speakers.clear();
      return;
    }
    if (msg.forget !== undefined) {
      this.speakers.delete(msg.forget);
      return;
    }
    const s = this.speaker(msg.speaker);
    if (msg.pcm) s.push(msg.pcm);
    else if (msg.silence > 0) s.push(new Float32Array(Math.min(msg.silence, this.max)));
    if (s.buffered > this.max) s.drop(s.buffered - this.target);
  }

  process(_inputs, outputs) {
    const out = outputs[0];
    const n = out[0].length;
    if (this.mix.length !== n) this.mix = new Float32Array(n);
    const mix = this.mix;
    mix.fill(0);
    for (const [id, s] of this.speakers) {
      if (!s.playing && s.buffered >= this.target) s.playing = true;
      if (s.playing) {
        s.sumSq += s.mixInto(mix);
        if (s.buffered <= 0) s.playing = false; // ran dry: buffer again before playing on
      }
      s.idle += n;
      if (s.idle > IDLE_S * sampleRate && !s.chunks.length) this.speakers.delete(id);
    }
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const v = mix[i] > 1 ? 1 : mix[i] < -1 ? -1 : mix[i];
      mix[i] = v;
      sumSq += v * v;
    }
    for (const channel of out) channel.set(mix);
    this.sumSq += sumSq;
    this.sinceReport += n;
    if (this.sinceReport >= this.reportEvery) {
      const speakers = {};
      const buffered = {};
      for (const [id, s] of this.speakers) {
        speakers[id] = Math.sqrt(s.sumSq / this.sinceReport);
        buffered[id] = Math.round((s.buffered / sampleRate) * 1000);
        s.sumSq = 0;
      }
      this.port.postMessage({ level: Math.sqrt(this.sumSq / this.sinceReport), speakers, buffered });
      this.sumSq = 0;
      this.sinceReport = 0;
    }
    return true;
  }
}

registerProcessor('stage-mixer', StageMixer);

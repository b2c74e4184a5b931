// Listening to the stage on the WebSocket: the speakers' Opus packets come with
// the state frames (`event_audio`, 20 per second); each speaker gets its own
// WebCodecs AudioDecoder (Opus, 48 kHz), and the decoded PCM goes to the
// 'stage-mixer' AudioWorklet (worklet.js: a ~80 ms jitter buffer per speaker,
// speakers mixed) and out to the speakers or headphones.
//
//   wsListenSupported() -> bool                // WebCodecs' AudioDecoder is there
//   const ws = new WsListener({ onChange });   // onChange(): the state or the level moved
//   await ws.start();                          // in a click (the AudioContext needs a gesture)
//   ws.packets(msg.p, selfId);                 // every event_audio
//   ws.setMuted(true);                         // drop what comes (while we publish)
//   ws.level(speakerId?) -> number             // loudest output RMS of the last 500 ms
//   ws.resume();                               // after "Turn on the sound"
//   ws.stop();
//
// Packets are ordered by sequence number per speaker; a packet older than the last
// one played is dropped (late), a small gap is filled with silence so the timing holds.

const SAMPLE_RATE = 48000;
const FRAME = 960; // 20 ms at 48 kHz
const MAX_GAP_FRAMES = 5;
const PEAK_WINDOW_MS = 500;
const DECODER_IDLE_MS = 10_000;
const CONFIG = { codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 2 };

export function wsListenSupported() {
  return typeof globalThis.AudioDecoder === 'function' && typeof globalThis.EncodedAudioChunk === 'function'
    && typeof globalThis.AudioWorkletNode === 'function';
}

/** seq (16 bits) unwrapped next to `last` (an unwrapped number, or null). */
function unwrap(seq, last) {
  if (last === null) return seq;
  let ext = (last & ~0xffff) | seq;
  if (ext < last - 0x8000) ext += 0x10000;
  else if (ext > last + 0x8000) ext -= 0x10000;
  return ext;
}

/** ts (32 bits) unwrapped next to `last`. */
function unwrapTs(ts, last) {
  if (last === null) return ts;
  const span = 2 ** 32;
  let ext = Math.floor(last / span) * span + ts;
  if (ext < last - span / 2) ext += span;
  else if (ext > last + span / 2) ext -= span;
  return ext;
}

class SpeakerDecoder {
  constructor(id, post) {
    this.id = id;
    this.post = post;
    this.lastSeq = null;
    this.lastTs = null;
    this.seen = performance.now();
    this.decoded = 0;
    this.late = 0;
    this.broken = false;
    this.decoder = new AudioDecoder({
      output: (data) => this.output(data),
      error: () => { this.broken = true; },
    });
    this.decoder.configure(CONFIG);
  }

  output(data) {
    try {
      const frames = data.numberOfFrames;
      const channels = data.numberOfChannels;
      const mono = new Float32Array(frames);
      const plane = new Float32Array(frames);
      for (let c = 0; c < channels; c++) {
        data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
        for (let i = 0; i < frames; i++) mono[i] += plane[i] / channels;
      }
      this.decoded += 1;
      this.post({ speaker: this.id, pcm: mono }, [mono.buffer]);
    } finally {
      data.close();
    }
  }

  packet(seq, ts, bytes) {
    this.seen = performance.now();
    const ext = unwrap(seq, this.lastSeq);
    if (this.lastSeq !== null && ext <= this.lastSeq) {
      this.late += 1;
      return;
    }
    const gap = this.lastSeq === null ? 0 : ext - this.lastSeq - 1;
    if (gap > 0 && gap <= MAX_GAP_FRAMES) this.post({ speaker: this.id, silence: gap * FRAME });
    this.lastSeq = ext;
    this.lastTs = unwrapTs(ts, this.lastTs);
    if (this.broken || this.decoder.state !== 'configured') return;
    try {
      this.decoder.decode(new EncodedAudioChunk({
        type: 'key',
        timestamp: Math.round((this.lastTs / SAMPLE_RATE) * 1e6),
        data: bytes,
      }));
    } catch {
      this.broken = true;
    }
  }

  close() {
    try { if (this.decoder.state !== 'closed') this.decoder.close(); } catch { /* already closed */ }
  }
}

export class WsListener {
  constructor({ onChange = () => {} } = {}) {
    this.onChange = onChange;
    this.ctx = null;
    this.node = null;
    this.decoders = new Map(); // speaker id -> SpeakerDecoder
    this.muted = false;
    this.state = 'off'; // off | starting | on | failed
    this.history = []; // [{at, level, speakers}] of the last PEAK_WINDOW_MS
    this.packetsIn = 0;
    this.sweeper = null;
  }

  get suspended() {
    return this.ctx?.state === 'suspended';
  }

  /** Start the output (idempotent: a start under way is awaited, not repeated). */
  start() {
    if (this.state === 'on') return Promise.resolve();
    if (this.state === 'starting' && this.starting) return this.starting;
    this.starting = this.open().finally(() => { this.starting = null; });
    return this.starting;
  }

  async open() {
    this.state = 'starting';
    try {
      this.ctx = new AudioContext({ sampleRate: SAMPLE_RATE, latencyHint: 'interactive' });
      this.ctx.addEventListener('statechange', () => this.onChange());
      await this.ctx.audioWorklet.addModule(new URL('./worklet.js', import.meta.url));
      if (this.state !== 'starting') return; // stopped meanwhile
      this.node = new AudioWorkletNode(this.ctx, 'stage-mixer', { numberOfInputs: 0, outputChannelCount: [2] });
      this.node.port.onmessage = (e) => this.report(e.data);
      this.node.connect(this.ctx.destination);
      this.state = 'on';
      this.sweeper = setInterval(() => this.sweep(), 2000);
      this.ctx.resume().catch(() => {});
    } catch (e) {
      console.warn('servicepoint: the stage sound could not start', e?.message ?? e);
      this.state = 'failed';
      this.ctx?.close().catch(() => {});
      this.ctx = null;
    }
    this.onChange();
  }

  resume() {
    this.ctx?.resume().then(() => this.onChange(), () => {});
  }

  report(msg) {
    const now = performance.now();
    this.history.push({ at: now, level: msg.level, speakers: msg.speakers });
    while (this.history.length && now - this.history[0].at > PEAK_WINDOW_MS) this.history.shift();
    this.onChange('level');
  }

  /** The loudest RMS in the last 500 ms: of the whole output, or of one speaker. */
  level(speaker) {
    let peak = 0;
    const now = performance.now();
    for (const r of this.history) {
      if (now - r.at > PEAK_WINDOW_MS) continue;
      const v = speaker === undefined || speaker === null ? r.level : (r.speakers[speaker] ?? 0);
      if (v > peak) peak = v;
    }
    return peak;
  }

  post(msg, transfer) {
    this.node?.port.postMessage(msg, transfer);
  }

  /** One event_audio's packets: [[speaker, seq, ts, opus], ...]. */
  packets(list, selfId) {
    if (this.state !== 'on' || this.muted || !Array.isArray(list)) return;
    const bySpeaker = new Map();
    for (const p of list) {
      if (!Array.isArray(p) || p.length < 4 || !(p[3] instanceof Uint8Array)) continue;
      const [speaker, seq, ts, bytes] = p;
      if (speaker === selfId) continue; // never one's own voice back
      if (!bySpeaker.has(speaker)) bySpeaker.set(speaker, []);
      bySpeaker.get(speaker).push([seq, ts, bytes]);
    }
    for (const [speaker, packets] of bySpeaker) {
      let dec = this.decoders.get(speaker);
      if (!dec || dec.broken) {
        dec?.close();
        try {
          dec = new SpeakerDecoder(speaker, (m, tr) => this.post(m, tr));
        } catch {
          continue;
        }
        this.decoders.set(speaker, dec);
      }
      const ref = dec.lastSeq ?? packets[0][0];
      packets.sort((a, b) => unwrap(a[0], ref) - unwrap(b[0], ref));
      for (const [seq, ts, bytes] of packets) {
        this.packetsIn += 1;
        dec.packet(seq, ts, bytes);
      }
    }
  }

  sweep() {
    const now = performance.now();
    for (const [id, dec] of this.decoders) {
      if (now - dec.seen > DECODER_IDLE_MS) {
        dec.close();
        this.decoders.delete(id);
        this.post({ forget: id });
      }
    }
  }

  /** While muted (we speak, and hear the stage on our own connection) nothing plays. */
  setMuted(muted) {
    this.muted = muted;
    if (muted) this.flush();
  }

  flush() {
    for (const dec of this.decoders.values()) dec.close();
    this.decoders.clear();
    this.post({ flush: true });
  }

  stop() {
    this.flush();
    clearInterval(this.sweeper);
    this.sweeper = null;
    this.node?.disconnect();
    this.node = null;
    this.ctx?.close().catch(() => {});
    this.ctx = null;
    this.history = [];
    this.state = 'off';
    this.onChange();
  }

  snapshot() {
    return {
      state: this.state,
      suspended: this.suspended,
      muted: this.muted,
      level: this.level(),
      packets: this.packetsIn,
      speakers: [...this.decoders.values()].map((d) => ({ id: d.id, decoded: d.decoded, late: d.late })),
    };
  }
}

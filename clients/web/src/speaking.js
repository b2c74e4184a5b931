// Who is heard, for the views' speaking indicator (view.setSpeaking): sound levels
// in, on/off out, held a moment so the pause between two words does not blink it.
// Features feed it from real audio: a desk call's WebRTC stats (features/desks),
// the stage's per-speaker levels (features/events).
//
//   const heard = new Heard((id, on) => view.setSpeaking(id, on));
//   heard.level(id, level, nowS);   // level: RMS 0..1 of the last moment
//   heard.only(ids);                // nobody else is heard now; heard.clear()
//
//   const meter = new RtcMeter();
//   await meter.read(pc) -> {source: level | null, inbound: [level, ...]}
//     the microphone sent (media-source) and each stream received (inbound-rtp),
//     from getStats' totalAudioEnergy over the time since the last read; an
//     inbound stream that got no packet since is silent.

export const SPEAKING_LEVEL = 0.02; // about -34 dBFS: quieter is not speech
const HOLD_S = 0.6;

export class Heard {
  constructor(setSpeaking) {
    this.setSpeaking = setSpeaking;
    this.loudAt = new Map(); // id -> when last loud (s)
    this.on = new Set();
  }

  level(id, level, nowS) {
    if (level >= SPEAKING_LEVEL) this.loudAt.set(id, nowS);
    const loud = nowS - (this.loudAt.get(id) ?? -Infinity) <= HOLD_S;
    if (loud === this.on.has(id)) return;
    if (loud) this.on.add(id);
    else this.on.delete(id);
    this.setSpeaking(id, loud);
  }

  /** Everyone not in `ids` (a Set) is no longer heard. */
  only(ids) {
    for (const id of [...this.on]) {
      if (ids.has(id)) continue;
      this.on.delete(id);
      this.loudAt.delete(id);
      this.setSpeaking(id, false);
    }
  }

  clear() {
    this.only(new Set());
  }
}

export class RtcMeter {
  constructor() {
    this.prev = new Map(); // stats id -> {energy, duration, packets}
    this.pc = null;
  }

  async read(pc) {
    if (pc !== this.pc) {
      this.pc = pc;
      this.prev.clear();
    }
    const report = await pc.getStats();
    const out = { source: null, inbound: [] };
    report.forEach((s) => {
      if (s.kind !== 'audio') return;
      if (s.type === 'media-source') out.source = this.delta(s, null);
      else if (s.type === 'inbound-rtp') out.inbound.push(this.delta(s, s.packetsReceived ?? 0));
    });
    return out;
  }

  delta(s, packets) {
    const now = { energy: s.totalAudioEnergy ?? 0, duration: s.totalSamplesDuration ?? 0, packets };
    const prev = this.prev.get(s.id);
    this.prev.set(s.id, now);
    if (!prev) return 0;
    const duration = now.duration - prev.duration;
    if (duration <= 0 || (packets !== null && packets === prev.packets)) return 0;
    return Math.sqrt(Math.max(0, now.energy - prev.energy) / duration);
  }
}

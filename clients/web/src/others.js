// The other avatars in view: who they are (from 'enter'), where they are
// (from 'f' frames, buffered for interpolation), and when they go ('leave').
//
//   const others = new Others(tickHz);
//   others.enter(entities, localS); others.leave(ids); others.frame(decoded, localS);
//   (or others.receive(msg, localS) with an 'f' message: decoded with this connection's
//   FrameDecoder, which reset() starts afresh)
//   for (const [id, o] of others.all) view.setPose(id, o.buffer.sample(others.renderTime(now)));

import { SnapshotBuffer, ServerClock } from './interp.js';
import { FrameDecoder } from './protocol/frames.js';

export class Others extends EventTarget {
  constructor(tickHz = 20) {
    super();
    this.clock = new ServerClock(tickHz);
    this.all = new Map(); // id -> {id, name, role, color, avatar, buffer}
    this.selfId = null;
    this.decoder = new FrameDecoder();
  }

  reset(tickHz) {
    const ids = [...this.all.keys()];
    this.all.clear();
    this.decoder.reset();
    this.clock = new ServerClock(tickHz ?? this.clock.tickHz);
    if (ids.length) this.dispatchEvent(new CustomEvent('leave', { detail: ids }));
  }

  enter(entities, localS) {
    const added = [];
    const now = this.clock.now(localS);
    for (const e of entities) {
      if (e.id === this.selfId) continue;
      const known = this.all.get(e.id);
      const info = {
        id: e.id, name: e.name, role: e.role, color: e.color, avatar: e.avatar,
        buffer: known?.buffer ?? new SnapshotBuffer(e.x, e.z, e.yaw, now, 1 / this.clock.tickHz),
      };
      // a new sighting starts at the full rate until the server says otherwise
      if (known) info.buffer.setUpdateInterval(1 / this.clock.tickHz, 1 / this.clock.tickHz);
      this.all.set(e.id, info);
      added.push(info);
    }
    if (added.length) this.dispatchEvent(new CustomEvent('enter', { detail: added }));
  }

  leave(ids) {
    this.decoder.forget(ids);
    const gone = ids.filter((id) => this.all.delete(id));
    if (gone.length) this.dispatchEvent(new CustomEvent('leave', { detail: gone }));
  }

  /** An 'f' message of this connection; false if it did not decode. */
  receive(msg, localS) {
    const f = this.decoder.decode(msg);
    if (f) this.frame(f, localS);
    return f !== null;
  }

  frame(f, localS) {
    this.clock.observe(f.tick, localS);
    const hz = this.clock.tickHz;
    const t = f.tick / hz;
    for (let n = 0; n < f.count; n++) {
      const o = this.all.get(f.ids[n]);
      if (o) o.buffer.push(t, f.x[n], f.z[n], f.yaw[n]);
    }
    // a new rate applies from the next update on (this one came at the old rate)
    const rates = f.rateIds?.length ?? 0;
    for (let n = 0; n < rates; n++) {
      const o = this.all.get(f.rateIds[n]);
      if (o) o.buffer.setUpdateInterval((1 << f.rateShifts[n]) / hz, 1 / hz);
    }
  }

  /**
   * {id: {t, x, z, newest}}: where each avatar is drawn at local time `localS` (at server
   * time t), and the server time of its newest sample (t beyond it: held, frames late).
   */
  drawn(localS) {
    const rt = this.renderTime(localS);
    const out = {};
    for (const [id, o] of this.all) {
      const p = o.buffer.sample(rt);
      const newest = o.buffer.t.length ? o.buffer.t[o.buffer.t.length - 1] : null;
      out[id] = { t: rt === null ? null : rt - o.buffer.lag, x: p.x, z: p.z, newest };
    }
    return out;
  }

  renderTime(localS) {
    return this.clock.renderTime(localS);
  }

  /** {id: {x, z, name}} of the latest received poses (for the test hook). */
  snapshot() {
    const out = {};
    for (const [id, o] of this.all) out[id] = { x: o.buffer.last.x, z: o.buffer.last.z, name: o.name, role: o.role };
    return out;
  }
}

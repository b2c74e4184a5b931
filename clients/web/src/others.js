// The other avatars in view: who they are (from 'enter'), where they are
// (from 'f' frames, buffered for interpolation), and when they go ('leave').
//
//   const others = new Others(tickHz);
//   others.enter(entities, localS); others.leave(ids); others.frame(decoded, localS);
//   for (const [id, o] of others.all) view.setPose(id, o.buffer.sample(others.renderTime(now)));

import { SnapshotBuffer, ServerClock } from './interp.js';

export class Others extends EventTarget {
  constructor(tickHz = 20) {
    super();
    this.clock = new ServerClock(tickHz);
    this.all = new Map(); // id -> {id, name, role, color, avatar, buffer}
    this.selfId = null;
  }

  reset(tickHz) {
    const ids = [...this.all.keys()];
    this.all.clear();
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
        buffer: known?.buffer ?? new SnapshotBuffer(e.x, e.z, e.yaw, now),
      };
      this.all.set(e.id, info);
      added.push(info);
    }
    if (added.length) this.dispatchEvent(new CustomEvent('enter', { detail: added }));
  }

  leave(ids) {
    const gone = ids.filter((id) => this.all.delete(id));
    if (gone.length) this.dispatchEvent(new CustomEvent('leave', { detail: gone }));
  }

  frame(f, localS) {
    this.clock.observe(f.tick, localS);
    const t = f.tick / this.clock.tickHz;
    for (let n = 0; n < f.count; n++) {
      const o = this.all.get(f.ids[n]);
      if (o) o.buffer.push(t, f.x[n], f.z[n], f.yaw[n]);
    }
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

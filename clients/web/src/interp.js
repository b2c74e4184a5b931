// Smooth motion for other avatars: a snapshot buffer per avatar and a clock
// that maps server ticks to local time, so the page can draw everyone where
// they were INTERP_DELAY seconds ago, between two received frames.

export const INTERP_DELAY_S = 0.1;
const KEEP_S = 1.0;

/** Shortest signed difference b - a between two angles. */
export function angleDelta(a, b) {
  let d = (b - a) % (Math.PI * 2);
  if (d > Math.PI) d -= Math.PI * 2;
  else if (d < -Math.PI) d += Math.PI * 2;
  return d;
}

/**
 * Estimates server time from frame ticks. The offset follows the earliest
 * arrivals (least delayed frames) and creeps up slowly, so network jitter up
 * to the interpolation delay does not make motion stutter.
 */
export class ServerClock {
  constructor(tickHz = 20) {
    this.tickHz = tickHz;
    this.offset = null; // local seconds minus server seconds
  }

  observe(tick, localS) {
    const sample = localS - tick / this.tickHz;
    if (this.offset === null || sample < this.offset || sample - this.offset > 1) this.offset = sample;
    else this.offset += (sample - this.offset) * 0.02;
  }

  /** Server seconds now, or null before the first frame. */
  now(localS) {
    return this.offset === null ? null : localS - this.offset;
  }

  /** The server time to draw others at. */
  renderTime(localS) {
    const now = this.now(localS);
    return now === null ? null : now - INTERP_DELAY_S;
  }
}

/** Recent poses of one avatar, oldest first; sample(t) interpolates. */
export class SnapshotBuffer {
  constructor(x, z, yaw, t = null) {
    this.t = [];
    this.x = [];
    this.z = [];
    this.yaw = [];
    this.last = { x, z, yaw };
    if (t !== null) this.push(t, x, z, yaw);
  }

  push(t, x, z, yaw) {
    const n = this.t.length;
    if (n && t <= this.t[n - 1]) {
      if (t < this.t[n - 1]) return; // out of order: drop
      this.x[n - 1] = x; this.z[n - 1] = z; this.yaw[n - 1] = yaw;
    } else {
      this.t.push(t); this.x.push(x); this.z.push(z); this.yaw.push(yaw);
    }
    this.last = { x, z, yaw };
    while (this.t.length > 2 && this.t[1] < t - KEEP_S) {
      this.t.shift(); this.x.shift(); this.z.shift(); this.yaw.shift();
    }
  }

  /** The pose at server time `t` (held at the ends of the buffer). */
  sample(t) {
    const n = this.t.length;
    if (n === 0 || t === null) return this.last;
    if (t <= this.t[0]) return { x: this.x[0], z: this.z[0], yaw: this.yaw[0] };
    if (t >= this.t[n - 1]) return this.last;
    let k = n - 1;
    while (k > 0 && this.t[k - 1] > t) k--;
    const a = k - 1;
    const f = (t - this.t[a]) / (this.t[k] - this.t[a]);
    return {
      x: this.x[a] + (this.x[k] - this.x[a]) * f,
      z: this.z[a] + (this.z[k] - this.z[a]) * f,
      yaw: this.yaw[a] + angleDelta(this.yaw[a], this.yaw[k]) * f,
    };
  }
}

// Smooth motion for other avatars: a snapshot buffer per avatar and a clock
// that maps server ticks to local time, so the page can draw everyone where
// they were INTERP_DELAY seconds ago, between two received frames.
//
// Far avatars are updated less often (every 2, 4 or 8 ticks) and unchanged ones
// not at all, so each buffer knows its avatar's update interval: a sample that
// arrives after a longer gap means the avatar stood still until one interval
// before it (a hold sample is put there), and a buffer draws its avatar an extra
// (interval - one tick) in the past, so there is always a later sample to move
// towards. That extra lag follows interval changes at LAG_SLEW_PER_S, so motion
// speeds up or slows down a little instead of jumping.

export const INTERP_DELAY_S = 0.1;
export const LAG_SLEW_PER_S = 0.5;
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
  constructor(x, z, yaw, t = null, interval = null) {
    this.t = [];
    this.x = [];
    this.z = [];
    this.yaw = [];
    this.last = { x, z, yaw };
    this.interval = interval; // seconds between updates while moving; null: no hold samples
    this.lag = 0; // extra delay drawn now (seconds)
    this.lagTarget = 0;
    this.sampledAt = null;
    if (t !== null) this.push(t, x, z, yaw);
  }

  /** The avatar is updated every `intervalS` seconds from now on (ticks of `tickS`). */
  setUpdateInterval(intervalS, tickS) {
    this.interval = intervalS;
    this.lagTarget = Math.max(0, intervalS - tickS);
  }

  push(t, x, z, yaw) {
    let n = this.t.length;
    if (this.interval !== null && (n === 0 || t - this.t[n - 1] > this.interval * 1.5)) {
      // unchanged (so not sent) until its previous update slot; with no sample yet,
      // where it entered (before the clock ran)
      const hold = t - this.interval;
      this.t.push(hold); this.x.push(this.last.x); this.z.push(this.last.z); this.yaw.push(this.last.yaw);
      n += 1;
    }
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

  /** The pose at server time `t` minus this avatar's extra lag (held at the ends). */
  sample(t) {
    if (t !== null) t -= this.slewLag(t);
    return this.sampleAt(t);
  }

  /** The extra lag at render time `t`, moved towards its target since the last call. */
  slewLag(t) {
    const dt = this.sampledAt === null ? 0 : Math.min(Math.max(t - this.sampledAt, 0), 0.25);
    this.sampledAt = t;
    const step = LAG_SLEW_PER_S * dt;
    const d = this.lagTarget - this.lag;
    this.lag = Math.abs(d) <= step ? this.lagTarget : this.lag + Math.sign(d) * step;
    return this.lag;
  }

  /** The pose at server time `t`, no lag (held at the ends of the buffer). */
  sampleAt(t) {
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

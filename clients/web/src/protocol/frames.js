// State frames ('f' messages, protocol v4): ids and quantised poses packed in msgpack bins.
//
//   i:  uint32 LE ids of the updated entities: the absolute entries, then the delta entries
//   p:  int16 LE (x, z) pairs in centimetres, one per absolute entry (metres * position_scale)
//   d:  int8 (dx, dz) pairs in centimetres, one per delta entry: added to the last position
//       this connection received for the id
//   r:  uint16 LE yaw, 65536 steps per turn, one per entry of i
//   ri: uint32 LE ids whose update rate changed; rs: uint8 log2 of each one's interval in ticks
//
// Every bin may be absent. Entities not in a frame are where they were (unchanged, or
// updated at a lower rate because they are far away). A FrameDecoder per connection
// holds the quantised positions deltas apply to.
//
// Bins arrive as Uint8Array views at arbitrary offsets, so they are read
// through a DataView (explicitly little-endian, no alignment needed).

import { CATALOGUE } from './catalogue.js';

const SCALE = CATALOGUE.quantisation.position_scale;
const STEPS = CATALOGUE.quantisation.yaw_steps;
const TURN = Math.PI * 2;

const viewOf = (bin) => new DataView(bin.buffer, bin.byteOffset, bin.byteLength);

/** Yaw in radians folded into (-pi, pi]. */
export function wrapYaw(yaw) {
  let y = yaw % TURN;
  if (y > Math.PI) y -= TURN;
  else if (y <= -Math.PI) y += TURN;
  return y;
}

const NO_BYTES = new Uint8Array(0);
const binOf = (msg, key) => msg[key] ?? NO_BYTES;

/**
 * Decodes one connection's 'f' messages (create a new one per connection).
 * decode(msg) gives parallel arrays
 * {tick, count, ids: Uint32Array, x: Float32Array, z: Float32Array, yaw: Float32Array,
 *  rateIds: Uint32Array, rateShifts: Uint8Array}, deltas applied, or null when the bins
 * disagree or a delta names an id without a position (nothing is changed then).
 */
export class FrameDecoder {
  constructor() {
    this.held = new Map(); // id -> [qx, qz] (centimetres)
  }

  reset() {
    this.held.clear();
  }

  /** Forget ids that left view. */
  forget(ids) {
    for (const id of ids) this.held.delete(id);
  }

  decode(msg) {
    const i = binOf(msg, 'i'), p = binOf(msg, 'p'), d = binOf(msg, 'd'), r = binOf(msg, 'r');
    const ri = binOf(msg, 'ri'), rs = binOf(msg, 'rs');
    if (i.byteLength % 4 !== 0 || p.byteLength % 4 !== 0 || d.byteLength % 2 !== 0) return null;
    const count = i.byteLength / 4;
    const absolute = p.byteLength / 4;
    if (absolute + d.byteLength / 2 !== count || r.byteLength !== count * 2) return null;
    if (ri.byteLength % 4 !== 0 || rs.byteLength !== ri.byteLength / 4) return null;
    const iv = viewOf(i), pv = viewOf(p), dv = viewOf(d), rv = viewOf(r), riv = viewOf(ri);
    const ids = new Uint32Array(count);
    const qx = new Int32Array(count), qz = new Int32Array(count);
    for (let n = 0; n < count; n++) {
      const id = iv.getUint32(n * 4, true);
      ids[n] = id;
      if (n < absolute) {
        qx[n] = pv.getInt16(n * 4, true);
        qz[n] = pv.getInt16(n * 4 + 2, true);
      } else {
        const base = this.held.get(id);
        if (!base) return null;
        const k = (n - absolute) * 2;
        qx[n] = base[0] + dv.getInt8(k);
        qz[n] = base[1] + dv.getInt8(k + 1);
      }
    }
    const x = new Float32Array(count), z = new Float32Array(count), yaw = new Float32Array(count);
    for (let n = 0; n < count; n++) {
      this.held.set(ids[n], [qx[n], qz[n]]);
      x[n] = qx[n] / SCALE;
      z[n] = qz[n] / SCALE;
      yaw[n] = wrapYaw((rv.getUint16(n * 2, true) / STEPS) * TURN);
    }
    const rates = ri.byteLength / 4;
    const rateIds = new Uint32Array(rates);
    for (let n = 0; n < rates; n++) rateIds[n] = riv.getUint32(n * 4, true);
    const rateShifts = Uint8Array.from(rs);
    return { tick: Number(msg.k), count, ids, x, z, yaw, rateIds, rateShifts };
  }
}

/**
 * Decode a validated 'f' message without deltas (a full-rate frame) into the arrays
 * of FrameDecoder.decode; null when the bins disagree or it has deltas.
 */
export function decodeFrame(msg) {
  if (binOf(msg, 'd').byteLength) return null;
  return new FrameDecoder().decode(msg);
}

/** Build an 'f' message (for tests and tools): the inverse of decodeFrame. */
export function encodeFrame(tick, avatars) {
  const n = avatars.length;
  const i = new DataView(new ArrayBuffer(n * 4));
  const p = new DataView(new ArrayBuffer(n * 4));
  const r = new DataView(new ArrayBuffer(n * 2));
  avatars.forEach((a, k) => {
    i.setUint32(k * 4, a.id, true);
    p.setInt16(k * 4, Math.round(a.x * SCALE), true);
    p.setInt16(k * 4 + 2, Math.round(a.z * SCALE), true);
    const turns = (((a.yaw / TURN) % 1) + 1) % 1;
    r.setUint16(k * 2, Math.round(turns * STEPS) % STEPS, true);
  });
  const bytes = (dv) => new Uint8Array(dv.buffer);
  return { t: 'f', k: tick, i: bytes(i), p: bytes(p), r: bytes(r) };
}

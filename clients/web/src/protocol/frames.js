// State frames ('f' messages): ids and quantised poses packed in msgpack bins.
//
//   i: uint32 LE entity ids
//   p: int16 LE (x, z) pairs in centimetres   (metres * position_scale)
//   r: uint16 LE yaw, 65536 steps per turn
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

/**
 * Decode a validated 'f' message into parallel arrays:
 * {tick, count, ids: Uint32Array, x: Float32Array, z: Float32Array, yaw: Float32Array}.
 * Returns null when the bins disagree on the number of avatars.
 */
export function decodeFrame(msg) {
  const { i, p, r } = msg;
  if (i.byteLength % 4 !== 0) return null;
  const count = i.byteLength / 4;
  if (p.byteLength !== count * 4 || r.byteLength !== count * 2) return null;
  const iv = viewOf(i), pv = viewOf(p), rv = viewOf(r);
  const ids = new Uint32Array(count);
  const x = new Float32Array(count), z = new Float32Array(count), yaw = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    ids[n] = iv.getUint32(n * 4, true);
    x[n] = pv.getInt16(n * 4, true) / SCALE;
    z[n] = pv.getInt16(n * 4 + 2, true) / SCALE;
    yaw[n] = wrapYaw((rv.getUint16(n * 2, true) / STEPS) * TURN);
  }
  return { tick: Number(msg.k), count, ids, x, z, yaw };
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

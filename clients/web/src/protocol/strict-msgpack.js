// A small, strict MessagePack decoder that reproduces what the Python server's
// `msgpack.unpackb(raw=False, strict_map_key=True, ...)` accepts and refuses.
//
// Why a second decoder next to @msgpack/msgpack: the validator must tell an
// integral float (msgpack float 1.0) from an integer, keep `__proto__` keys
// and binary map keys, and fail exactly where Python fails (invalid UTF-8,
// non-string map keys, bad timestamps, the unpacker's limits and stack depth).
// The page itself decodes with @msgpack/msgpack; this one is for agreement
// tests (tools/validate.mjs) and for anyone who needs the exact answer.
//
// Output: plain JS values, except
//   - maps are null-prototype objects; if a map had binary keys it carries
//     BIN_KEYS (a symbol) = true (such keys can never name a known field);
//   - floats whose value is integral are wrapped in IntegralFloat;
//   - integers outside the safe range are BigInt;
//   - ext values are Ext instances (timestamps stay Ext with type -1).

export const BIN_KEYS = Symbol('binKeys');

/** A msgpack float whose value happens to be integral (1.0, -0.0, 1e20). */
export class IntegralFloat {
  constructor(value) { this.value = value; }
}

/** An ext value (type, data). */
export class Ext {
  constructor(type, data) { this.type = type; this.data = data; }
}

export class StrictDecodeError extends Error {}

// msgpack-python's C unpacker refuses nesting deeper than this many containers.
const MAX_STACK = 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decode one msgpack object from `bytes`, refusing trailing data.
 * `limits` mirrors unpackb's max_*_len keywords: {maxStr, maxBin, maxArray,
 * maxMap, maxExt}; undefined means unlimited. Throws StrictDecodeError.
 */
export function decodeStrict(bytes, limits = {}) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;

  const fail = (why) => { throw new StrictDecodeError(why); };
  const need = (n) => { if (pos + n > buf.length) fail('truncated'); };
  const over = (n, max) => max !== undefined && max !== null && n > max;

  const u8 = () => { need(1); return buf[pos++]; };
  const u16 = () => { need(2); const v = view.getUint16(pos); pos += 2; return v; };
  const u32 = () => { need(4); const v = view.getUint32(pos); pos += 4; return v; };
  const bytesOf = (n) => { need(n); const b = buf.slice(pos, pos + n); pos += n; return b; };

  const num = (v) => (Number.isInteger(v) ? new IntegralFloat(v) : v);
  const big = (v) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

  function str(n) {
    if (over(n, limits.maxStr)) fail('str too long');
    const b = bytesOf(n);
    try { return utf8.decode(b); } catch { return fail('invalid utf-8'); }
  }
  function bin(n) {
    if (over(n, limits.maxBin)) fail('bin too long');
    return bytesOf(n);
  }
  function ext(n) {
    if (over(n, limits.maxExt)) fail('ext too long');
    need(1 + n);
    const type = view.getInt8(pos); pos += 1;
    const data = bytesOf(n);
    // msgpack-python: types -128..-2 are reserved ("code must be 0~127").
    if (type < -1) fail('reserved ext type');
    if (type === -1) checkTimestamp(data);
    return new Ext(type, data);
  }
  function checkTimestamp(d) {
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (d.length === 4) return;
    if (d.length === 8) { if ((dv.getUint32(0) >>> 2) >= 1e9) fail('bad timestamp'); return; }
    if (d.length === 12) { if (dv.getUint32(0) >= 1e9) fail('bad timestamp'); return; }
    fail('bad timestamp length');
  }
  function array(n, depth) {
    if (over(n, limits.maxArray)) fail('array too long');
    const out = [];
    for (let i = 0; i < n; i++) out.push(value(depth));
    return out;
  }
  function map(n, depth) {
    if (over(n, limits.maxMap)) fail('map too long');
    const out = Object.create(null);
    for (let i = 0; i < n; i++) {
      const key = value(depth);
      const v = value(depth);
      if (typeof key === 'string') out[key] = v;
      else if (key instanceof Uint8Array) out[BIN_KEYS] = true;
      else fail('map key must be str or bin');
    }
    return out;
  }

  function value(depth) {
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    if ((b & 0xf0) === 0x90 || (b & 0xf0) === 0x80) {
      if (depth + 1 > MAX_STACK) fail('nested too deeply');
      return (b & 0xf0) === 0x90 ? array(b & 0x0f, depth + 1) : map(b & 0x0f, depth + 1);
    }
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bin(u8());
      case 0xc5: return bin(u16());
      case 0xc6: return bin(u32());
      case 0xc7: return ext(u8());
      case 0xc8: return ext(u16());
      case 0xc9: return ext(u32());
      case 0xca: { need(4); const v = view.getFloat32(pos); pos += 4; return num(v); }
      case 0xcb: { need(8); const v = view.getFloat64(pos); pos += 8; return num(v); }
      case 0xcc: return u8();
      case 0xcd: return u16();
      case 0xce: return u32();
      case 0xcf: { need(8); const v = view.getBigUint64(pos); pos += 8; return big(v); }
      case 0xd0: { need(1); const v = view.getInt8(pos); pos += 1; return v; }
      case 0xd1: { need(2); const v = view.getInt16(pos); pos += 2; return v; }
      case 0xd2: { need(4); const v = view.getInt32(pos); pos += 4; return v; }
      case 0xd3: { need(8); const v = view.getBigInt64(pos); pos += 8; return big(v); }
      case 0xd4: return ext(1);
      case 0xd5: return ext(2);
      case 0xd6: return ext(4);
      case 0xd7: return ext(8);
      case 0xd8: return ext(16);
      case 0xd9: return str(u8());
      case 0xda: return str(u16());
      case 0xdb: return str(u32());
      case 0xdc: case 0xdd: {
        const n = b === 0xdc ? u16() : u32();
        if (depth + 1 > MAX_STACK) fail('nested too deeply');
        return array(n, depth + 1);
      }
      case 0xde: case 0xdf: {
        const n = b === 0xde ? u16() : u32();
        if (depth + 1 > MAX_STACK) fail('nested too deeply');
        return map(n, depth + 1);
      }
      default: return fail(`reserved byte 0x${b.toString(16)}`);
    }
  }

  const out = value(0);
  if (pos !== buf.length) fail('extra data');
  return out;
}

// The browser's twin of protocol/codec.py: msgpack encode/decode and the same
// validation rules, error codes and limits as the Python validator.
//
//   encode(msg)            -> Uint8Array
//   decode(bytes)          -> the unpacked value (throws on bad msgpack)
//   validate(obj, side)    -> null when valid, else {code, msg, ref?}
//                             (ref: the message type, once known, as in Python)
//                             side: 'client' (messages a client sends) or
//                             'server' (messages the server sends)
//   decodeMessage(bytes, side) -> {msg} or {error: {code, msg, ref?}}; exact
//                             Python agreement, including bad_msgpack.
//
// Rules mirrored from protocol/codec.py: a message is a map with a string
// 't' naming a known type; unknown fields are refused before anything else;
// then each field in catalogue order is checked (required, kind, limits).
// String lengths count code points, like Python's len().
// Note: after @msgpack/msgpack decoding a float 1.0 is indistinguishable
// from the integer 1, so `validate` on such objects treats integral numbers as
// integers; `decodeMessage` uses the strict decoder, which keeps the difference.

import { encode as mpEncode, decode as mpDecode } from '@msgpack/msgpack';
import { CATALOGUE } from './catalogue.js';
import { BIN_KEYS, Ext, IntegralFloat, StrictDecodeError, decodeStrict } from './strict-msgpack.js';

const MAX_DEPTH = 4;
const has = (obj, key) => obj !== null && obj !== undefined && Object.prototype.hasOwnProperty.call(obj, key);

/** Pack one message. */
export function encode(msg) {
  return mpEncode(msg);
}

/** Unpack one message (no validation). Throws on malformed MessagePack. */
export function decode(bytes) {
  return mpDecode(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes);
}

class Refusal {
  constructor(code, msg) { this.code = code; this.msg = msg; }
}
const refuse = (code, msg) => { throw new Refusal(code, msg); };

const isPlainMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
  && !(v instanceof Uint8Array) && !(v instanceof ArrayBuffer) && !(v instanceof IntegralFloat)
  && !(v instanceof Ext) && !(v instanceof Date) && !ArrayBuffer.isView(v)
  && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

const isInt = (v) => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
const isNumber = (v) => typeof v === 'bigint' || typeof v === 'number' || v instanceof IntegralFloat;
const numeric = (v) => (v instanceof IntegralFloat ? v.value : v);

function fmt(n) {
  // protocol.codec.format_limit: integral limits print as integers ("4294967295"),
  // others like Python's "{:g}" (6 significant digits, trailing zeros dropped).
  if (typeof n === 'bigint') return n.toString();
  if (Number.isInteger(n)) return BigInt(n).toString();
  let s = Number(n).toPrecision(6);
  if (s.includes('e')) {
    let [m, e] = s.split('e');
    if (m.includes('.')) m = m.replace(/\.?0+$/, '');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (s.includes('.')) s = s.replace(/\.?0+$/, '');
  return s;
}

function checkLen(n, f, path, unit) {
  if (f.max_len !== undefined && n > f.max_len) refuse('too_long', `'${path}' is longer than ${f.max_len} ${unit}.`);
  if (f.min_len !== undefined && n < f.min_len) refuse('too_short', `'${path}' needs at least ${f.min_len} ${unit}.`);
}

function checkRange(v, f, path) {
  const lo = f.min;
  const hi = f.max;
  if ((lo !== undefined && v < lo) || (hi !== undefined && v > hi)) {
    let bound;
    if (lo !== undefined && hi !== undefined) bound = `between ${fmt(lo)} and ${fmt(hi)}`;
    else if (lo !== undefined) bound = `at least ${fmt(lo)}`;
    else bound = `at most ${fmt(hi)}`;
    refuse('out_of_range', `'${path}' must be ${bound}.`);
  }
}

function check(value, f, path, depth) {
  if (depth > MAX_DEPTH) refuse('bad_field', `'${path}' is nested too deeply.`);
  switch (f.kind) {
    case 'str':
    case 'enum':
      if (typeof value !== 'string') refuse('bad_field', `'${path}' must be a string.`);
      if (f.kind === 'enum') {
        if (f.values && !f.values.includes(value)) refuse('bad_field', `'${path}' must be one of: ${f.values.join(', ')}.`);
        return;
      }
      checkLen([...value].length, f, path, 'characters');
      return;
    case 'int':
      if (!isInt(value)) refuse('bad_field', `'${path}' must be an integer.`);
      checkRange(value, f, path);
      return;
    case 'float': {
      if (!isNumber(value)) refuse('bad_field', `'${path}' must be a number.`);
      const v = numeric(value);
      if (typeof v === 'number' && !Number.isFinite(v)) refuse('not_finite', `'${path}' must be a finite number.`);
      checkRange(v, f, path);
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') refuse('bad_field', `'${path}' must be true or false.`);
      return;
    case 'bin':
      if (!(value instanceof Uint8Array)) refuse('bad_field', `'${path}' must be binary.`);
      checkLen(value.length, f, path, 'bytes');
      return;
    case 'list':
      if (!Array.isArray(value)) refuse('bad_field', `'${path}' must be a list.`);
      checkLen(value.length, f, path, 'items');
      if (f.items) value.forEach((item, i) => check(item, f.items, `${path}[${i}]`, depth + 1));
      return;
    case 'map':
      if (!isPlainMap(value)) refuse('bad_field', `'${path}' must be a map.`);
      if (f.fields) checkFields(value, f.fields, `${path}.`, depth + 1);
      return;
    default:
      refuse('bad_field', `'${path}' has an unknown kind.`);
  }
}

function checkFields(obj, fields, prefix, depth, skip) {
  if (obj[BIN_KEYS]) refuse('unknown_field', `Unknown field '${prefix}<binary>'.`);
  for (const key of Object.keys(obj)) {
    if (key === skip) continue;
    if (!has(fields, key)) refuse('unknown_field', `Unknown field '${prefix}${key}'.`);
  }
  for (const name of Object.keys(fields)) {
    const f = fields[name];
    if (has(obj, name) && obj[name] !== undefined) check(obj[name], f, prefix + name, depth);
    else if (f.required) refuse('missing_field', `Field '${prefix}${name}' is missing.`);
  }
}

/**
 * Check an unpacked message against the catalogue of `side` ('client' or
 * 'server'). Returns null when valid, else {code, msg, ref?}.
 */
export function validate(obj, side) {
  const catalogue = side === 'client' ? CATALOGUE.client : CATALOGUE.server;
  if (!isPlainMap(obj)) return { code: 'not_a_message', msg: "A message must be a map with a field 't'." };
  const t = obj.t;
  if (typeof t !== 'string') return { code: 'not_a_message', msg: "A message needs a string field 't'." };
  if (!has(catalogue, t)) {
    const ref = [...t].slice(0, 32).join('');
    return { code: 'unknown_type', msg: `Unknown message type '${ref}'.`, ref };
  }
  try {
    checkFields(obj, catalogue[t].fields, '', 0, 't');
  } catch (e) {
    if (e instanceof Refusal) return { code: e.code, msg: e.msg, ref: t };
    throw e;
  }
  return null;
}

const CLIENT_LIMITS = {
  maxStr: CATALOGUE.max_message_bytes,
  maxBin: CATALOGUE.max_message_bytes,
  maxArray: 4096,
  maxMap: 64,
  maxExt: 0,
};

/**
 * Decode and validate like the Python edge (`decode_client` / `decode_server`).
 * Returns {msg} or {error: {code, msg}}.
 */
export function decodeMessage(bytes, side) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (side === 'client' && buf.length > CATALOGUE.max_message_bytes) {
    return { error: { code: 'too_long', msg: `Messages are limited to ${CATALOGUE.max_message_bytes} B.` } };
  }
  let obj;
  try {
    obj = decodeStrict(buf, side === 'client' ? CLIENT_LIMITS : {});
  } catch (e) {
    if (e instanceof StrictDecodeError) return { error: { code: 'bad_msgpack', msg: `The message is not valid MessagePack (${e.message}).` } };
    throw e;
  }
  const error = validate(obj, side);
  return error ? { error } : { msg: obj };
}

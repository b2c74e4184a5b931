#!/usr/bin/env node
// Validate hex-encoded msgpack messages with the browser's codec, one per line:
//
//   client <hex>     (a message a client sends; checked like decode_client)
//   server <hex>     (a message the server sends; checked like decode_server)
//
// Prints one line per input line: "ok" or the error code (bad_msgpack when
// the bytes are not MessagePack). Empty lines are skipped. A line that does
// not follow the format prints "bad_input". Used by Python tests that pipe
// the same fixtures through protocol/codec.py and compare the answers.
//
// With --detail, each answer is a JSON object instead:
//   {"code": "ok"} or {"code": ..., "msg": ..., "ref": ...} (ref absent when unknown),
// so the readable reasons and refs can be compared too.

import { createInterface } from 'node:readline';
import { decodeMessage } from '../src/protocol/codec.js';

const HEX = /^[0-9a-fA-F]*$/;
const DETAIL = process.argv.includes('--detail');

function verdict(line) {
  const m = /^(client|server)[ \t]+(\S*)$/.exec(line.trim());
  if (!m) {
    const side = line.trim();
    if (side === 'client' || side === 'server') return decodeMessage(new Uint8Array(0), side).error ?? null;
    return { code: 'bad_input', msg: 'expected "client <hex>" or "server <hex>"' };
  }
  const [, side, hex] = m;
  if (!HEX.test(hex) || hex.length % 2 !== 0) return { code: 'bad_input', msg: 'bad hex' };
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  return decodeMessage(bytes, side).error ?? null;
}

function answer(line) {
  const error = verdict(line);
  if (!DETAIL) return error ? error.code : 'ok';
  if (!error) return JSON.stringify({ code: 'ok' });
  const out = { code: error.code, msg: error.msg };
  if (error.ref !== undefined) out.ref = error.ref;
  return JSON.stringify(out);
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
// One answer per line, written at once, so a caller may also talk to it line by line.
for await (const line of rl) {
  if (line.trim() === '') continue;
  process.stdout.write(answer(line) + '\n');
}

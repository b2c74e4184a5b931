#!/usr/bin/env node
// Validate hex-encoded msgpack messages with the browser's codec, one per line:
//
//   client <hex>     (a message a client sends; checked like decode_client)
//   server <hex>     (a message the server sends; checked like decode_server)
//
// Prints one line per input line: "ok" or the error code (bad_msgpack when
// the bytes are not MessagePack). Empty lines are skipped. A line that does
// not follow the format prints "bad_input". Used by a Python test that pipes
// the same fixtures through protocol/codec.py and compares the answers.

import { createInterface } from 'node:readline';
import { decodeMessage } from '../src/protocol/codec.js';

const HEX = /^[0-9a-fA-F]*$/;

function answer(line) {
  const m = /^(client|server)[ \t]+(\S*)$/.exec(line.trim());
  if (!m) {
    const side = line.trim();
    if (side === 'client' || side === 'server') return decodeMessage(new Uint8Array(0), side).error?.code ?? 'ok';
    return 'bad_input';
  }
  const [, side, hex] = m;
  if (!HEX.test(hex) || hex.length % 2 !== 0) return 'bad_input';
  const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  const { error } = decodeMessage(bytes, side);
  return error ? error.code : 'ok';
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
// One answer per line, written at once, so a caller may also talk to it line by line.
for await (const line of rl) {
  if (line.trim() === '') continue;
  process.stdout.write(answer(line) + '\n');
}

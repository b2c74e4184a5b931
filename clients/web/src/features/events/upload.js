// A slide upload over the WebSocket: event_slides_begin {type, size, name}, the
// server's event_upload {upload, chunk}, then event_slides_chunk {upload, seq, data}
// in order from 0 (at most 12 KiB each, paced under the connection's rate limit),
// and event_slides_end; the server validates and renders the file and everyone's
// event_stage carries the new slide.
//
//   const up = new SlideUpload({ send, onChange });
//   up.start(file, type);     // state: 'begin' -> 'sending' -> 'rendering' -> 'done' | 'failed'
//   up.accepted(msg);         // event_upload
//   up.finished();            // an event_stage with a new deck arrived
//   up.failed(code);          // an error about event_slides_*
//   up.sent, up.size, up.state, up.code

import { CHUNK_BYTES } from './format.js';

/** Chunks per second: well under the per-connection rate limit (40/s), leaving room for moves. */
const CHUNKS_PER_S = 16;

export class SlideUpload {
  constructor({ send, onChange = () => {} }) {
    this.sendFn = send;
    this.onChange = onChange;
    this.reset();
  }

  reset() {
    this.state = 'idle';
    this.file = null;
    this.bytes = null;
    this.upload = null;
    this.sent = 0;
    this.size = 0;
    this.code = null;
    this.name = '';
    this.generation = (this.generation || 0) + 1;
  }

  get busy() {
    return ['begin', 'sending', 'rendering'].includes(this.state);
  }

  async start(file, type) {
    this.reset();
    this.file = file;
    this.size = file.size;
    this.name = file.name || '';
    this.state = 'begin';
    this.onChange();
    const generation = this.generation;
    try {
      this.bytes = new Uint8Array(await file.arrayBuffer());
    } catch {
      this.fail('read_failed');
      return;
    }
    if (generation !== this.generation) return;
    const msg = { t: 'event_slides_begin', type, size: this.bytes.length };
    if (this.name) msg.name = [...this.name].slice(0, 200).join('');
    if (!this.sendFn(msg)) this.fail('not_sent');
  }

  async accepted({ upload, chunk }) {
    if (this.state !== 'begin' || !this.bytes) return;
    this.upload = upload;
    this.state = 'sending';
    this.onChange();
    const generation = this.generation;
    const size = Math.max(1, Math.min(chunk || CHUNK_BYTES, CHUNK_BYTES));
    const gap = 1000 / CHUNKS_PER_S;
    let seq = 0;
    for (let at = 0; at < this.bytes.length; at += size) {
      if (generation !== this.generation || this.state !== 'sending') return;
      const data = this.bytes.subarray(at, Math.min(at + size, this.bytes.length));
      if (!this.sendFn({ t: 'event_slides_chunk', upload, seq, data })) {
        this.fail('not_sent');
        return;
      }
      seq += 1;
      this.sent = at + data.length;
      this.onChange();
      if (this.sent < this.bytes.length) await new Promise((r) => setTimeout(r, gap));
    }
    if (generation !== this.generation || this.state !== 'sending') return;
    if (!this.sendFn({ t: 'event_slides_end', upload })) {
      this.fail('not_sent');
      return;
    }
    this.state = 'rendering';
    this.onChange();
  }

  finished() {
    if (this.state !== 'rendering') return;
    this.state = 'done';
    this.bytes = null;
    this.onChange();
  }

  failed(code) {
    if (!this.busy) return false;
    this.fail(code);
    return true;
  }

  fail(code) {
    this.state = 'failed';
    this.code = code;
    this.bytes = null;
    this.generation += 1;
    this.onChange();
  }
}

// Words and times of events, in the page's language.
//
//   eventTitle(ev)              // its title in the UI language (else English, else any)
//   eventWhen(ev)               // "Tue 20 Jan, 18:00–19:30 CET" in the viewer's own time zone
//   eventWhenThere(ev)          // the same in the service point's zone, or '' when it is the viewer's
//   instanceLabel(instance, counts)   // "Main auditorium" / "Overflow room 2 of 3"
//   localIso(ts, tz)            // "2027-01-20T18:00" (the form's datetime-local value) in zone tz
//   SLIDE_TYPES, CHUNK_BYTES, QUESTION_CHARS   (from the catalogue)
//
// The module can be imported by node (no DOM access at import time).

import { getLanguage, localName, t } from '../../core/i18n.js';
import { CATALOGUE } from '../../protocol/catalogue.js';

const C = CATALOGUE.client;
export const SLIDE_TYPES = C.event_slides_begin?.fields.type.values ?? ['application/pdf', 'image/png', 'image/jpeg'];
export const CHUNK_BYTES = C.event_slides_chunk?.fields.data.max_len ?? 12 * 1024;
export const QUESTION_CHARS = C.event_ask?.fields.text.max_len ?? 500;
export const CAPTION_CHARS = C.event_caption?.fields.text.max_len ?? 300;
export const HOST_ROLES = C.event_create?.roles ?? ['host', 'admin'];
export const CAPTION_ROLES = C.event_caption?.roles ?? ['host', 'admin', 'captioner'];
export const REPORT_REASONS = C.report?.fields.reason.values ?? ['abuse', 'spam', 'harassment', 'personal_data', 'other'];
export const BAN_SCOPES = C.event_ban?.fields.scope.values ?? ['event', 'service_point'];
export const EVENT_LANGS = ['sv', 'da', 'de', 'ja', 'en'];

export function eventTitle(ev) {
  return localName(ev?.title) || t('events.untitled');
}

export function eventDescription(ev) {
  return localName(ev?.description) || '';
}

function viewerZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { return undefined; }
}

function rangeIn(ev, timeZone) {
  const opts = {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  };
  if (timeZone) opts.timeZone = timeZone;
  try {
    const fmt = new Intl.DateTimeFormat(getLanguage(), opts);
    const a = new Date(ev.starts * 1000);
    const b = new Date(ev.ends * 1000);
    return fmt.formatRange ? fmt.formatRange(a, b) : `${fmt.format(a)} – ${fmt.format(b)}`;
  } catch {
    return `${ev.starts_local ?? ''} – ${ev.ends_local ?? ''}`;
  }
}

/** When the event is, in the viewer's own time zone. */
export function eventWhen(ev) {
  return rangeIn(ev, undefined);
}

/** When it is at the service point, if that zone is not the viewer's ('' otherwise). */
export function eventWhenThere(ev) {
  const tz = ev?.tz;
  if (!tz || tz === viewerZone()) return '';
  return rangeIn(ev, tz);
}

/** A point in time written out in full (for a speaker's "until"). */
export function clock(ts) {
  try {
    return new Date(ts * 1000).toLocaleTimeString(getLanguage(), { hour: '2-digit', minute: '2-digit' });
  } catch {
    return '';
  }
}

/** "Main auditorium" or "Overflow room 2 of 3" (instance 0 is the auditorium). */
export function instanceLabel(instance, counts = []) {
  if (!instance) return t('events.instance.main');
  const rooms = Math.max(instance, (counts || []).filter((c) => c.instance > 0).length);
  return t('events.instance.overflow', { n: instance, of: rooms });
}

/** Seats free in the main auditorium (instance 0), from event_counts. */
export function mainSeatsFree(counts) {
  const main = (counts || []).find((c) => c.instance === 0);
  return main ? Math.max(0, main.capacity - main.attendees) : 0;
}

/** The local time "YYYY-MM-DDTHH:MM" of `ts` (seconds) in `tz` (a datetime-local value). */
export function localIso(ts, tz) {
  try {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
      timeZone: tz || undefined, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(new Date(ts * 1000)).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  } catch {
    return new Date(ts * 1000).toISOString().slice(0, 16);
  }
}

/** A file's slide type (from its type, else its name), or null when it is none of ours. */
export function slideType(file) {
  if (SLIDE_TYPES.includes(file?.type)) return file.type;
  const ext = String(file?.name || '').toLowerCase().split('.').pop();
  return { pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg' }[ext] ?? null;
}

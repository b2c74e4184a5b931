// Words for the figures of insight: alerts (by kind, in the reader's language),
// durations and shares. Shared by the staff console's alert panel
// (features/insight/index.js) and the dashboard (src/dashboard/), which loads
// this feature's catalogues too.
//
//   alertSentence(alert, (id) => 'General enquiries');   // "Alert: General enquiries: ..."
//   formatDuration(125) -> "2 min"; formatPercent(0.85) -> "85%"

import { getLanguage, has, t } from '../../core/i18n.js';

/** Alert kinds whose value and threshold are seconds (the rest are counts). */
const SECONDS = new Set(['wait_above_target']);

/** Seconds as the reader's language writes them: "45 s", "12 min", "1 h 5 min". */
export function formatDuration(seconds, lang = getLanguage()) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '–';
  const s = Math.max(0, Number(seconds));
  const unit = (value, u) => new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'short' }).format(value);
  if (s < 60) return unit(Math.round(s), 'second');
  if (s < 3600) return unit(Math.round(s / 60), 'minute');
  const h = Math.floor(s / 3600);
  const m = Math.round((s - h * 3600) / 60);
  return m ? `${unit(h, 'hour')} ${unit(m, 'minute')}` : unit(h, 'hour');
}

/** A share 0..1 as a percentage ("85 %" in German), '–' when there is none. */
export function formatPercent(share, lang = getLanguage()) {
  if (share === null || share === undefined || !Number.isFinite(Number(share))) return '–';
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 }).format(Number(share));
}

/** A count in the reader's digits and grouping. */
export function formatNumber(n, lang = getLanguage(), digits = 0) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '–';
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(Number(n));
}

/** Hours and minutes of a Unix time (seconds), in `timeZone` when given. */
export function formatClock(ts, timeZone, lang = getLanguage()) {
  if (!Number.isFinite(Number(ts))) return '';
  try {
    return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date(ts * 1000));
  } catch {
    return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(new Date(ts * 1000));
  }
}

/** What the alert is about, without its state: "General enquiries: the longest wait is 15 min (target 10 min)." */
export function alertText(alert, serviceName) {
  const service = alert.service ? serviceName(alert.service) || alert.service : t('alert.all_services');
  const seconds = SECONDS.has(alert.kind);
  const values = {
    service,
    value: seconds ? formatDuration(alert.value) : Math.round(Number(alert.value) || 0),
    threshold: seconds ? formatDuration(alert.threshold) : Math.round(Number(alert.threshold) || 0),
  };
  const key = `alert.kind.${alert.kind}`;
  if (has(key)) return t(key, values);
  return t('alert.kind.other', { service, summary: alert.summary || alert.rule || '' });
}

/** The whole line: "Alert since 10:05: General enquiries: ..." (state translated). */
export function alertSentence(alert, serviceName, timeZone) {
  const state = ['pending', 'firing', 'resolved'].includes(alert.state) ? alert.state : 'firing';
  return t('alert.line', {
    state,
    since: formatClock(alert.since, timeZone),
    text: alertText(alert, serviceName),
  });
}

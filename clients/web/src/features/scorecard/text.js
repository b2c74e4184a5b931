// Words and small pieces of DOM for the staff scorecard, shared by the staff's
// "My progress" panel (features/scorecard/index.js) and the managers' dashboard
// (src/dashboard/scorecard.js), which loads this feature's catalogues too.
// Nothing here touches the page at import time.
//
//   lineSentence({ metric: 'satisfaction', points: 12, reason: 'rated', args: { rating: 5 } })
//     -> "Rated 5 by the citizen: +12 for quality."
//   metricName('handle_band') -> "Handle time (within the band)"
//   challengeBlock(challenge, 'sc-ch') -> <div> with the name and labelled <progress> bars
//
// Case lines are information, never a prize: each sentence says what happened
// and what it counted for, with the points as a plain signed number.

import { getLanguage, has, localName, t } from '../../core/i18n.js';

/** The goal kinds the rules ship with (used when the progress does not list them). */
export const DEFAULT_GOAL_KINDS = ['csat_week', 'rating_week', 'training_scenario'];

/** A number as the reader writes it ('–' when there is none). */
export function fmtNumber(n, digits = 1, lang = getLanguage()) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '–';
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(Number(n));
}

/** Points with their sign ("+12", "0", "−2"). */
export function fmtPoints(n, lang = getLanguage()) {
  if (!Number.isFinite(Number(n))) return '–';
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(Number(n));
}

/** A share 0..1 as a percentage ('–' when there is none). */
export function fmtPercent(share, lang = getLanguage()) {
  if (share === null || share === undefined || !Number.isFinite(Number(share))) return '–';
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 }).format(Number(share));
}

/** A local date "2026-12-02" in the reader's words ("2 December 2026"). */
export function fmtDay(iso, lang = getLanguage()) {
  const [y, m, d] = String(iso ?? '').split('-').map(Number);
  if (!y || !m || !d) return String(iso ?? '');
  return new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

/** A metric's name ("Citizens’ satisfaction"); its id when the page does not know it. */
export function metricName(name) {
  const key = `scorecard.metric.${name}`;
  return has(key) ? t(key) : String(name);
}

/** One line of a case's feedback as a sentence (by its reason key, with its arguments). */
export function lineSentence(line) {
  const args = line?.args ?? {};
  const points = Number(line?.points) || 0;
  const values = {
    points: fmtPoints(points),
    scored: points !== 0 ? 'yes' : 'no',
    metric: metricName(line?.metric),
  };
  switch (line?.reason) {
    case 'rated':
      values.rating = fmtNumber(args.rating, 0);
      break;
    case 'referred':
      values.outcome = ['referred', 'no_show'].includes(args.outcome) ? args.outcome : 'other';
      break;
    case 'band_in':
    case 'band_out':
      values.minutes = fmtNumber(args.minutes, 1);
      values.low = fmtNumber(args.low, 1);
      values.high = fmtNumber(args.high, 1);
      values.side = args.side === 'below' ? 'below' : 'above';
      break;
    default:
      break;
  }
  const key = `scorecard.line.${line?.reason}`;
  return has(key) ? t(key, values) : t('scorecard.line.other', values);
}

/** A level's name from the rules (its names by language), or ''. */
export function levelName(level) {
  return level ? localName(level.names) || level.id : '';
}

/** A challenge goal's figure: "Called within the target time: 75 % (goal 80 %, 4 tickets)". */
export function challengeGoalText(goal) {
  const rating = goal.kind === 'rating';
  const key = `scorecard.challenge.goal.${goal.kind}`;
  const values = {
    value: rating ? fmtNumber(goal.value, 1) : fmtPercent(goal.value),
    target: rating ? fmtNumber(goal.target, 1) : fmtPercent(goal.target),
    n: Number(goal.n) || 0,
    met: goal.met ? 'yes' : 'no',
  };
  return has(key) ? t(key, values) : t('scorecard.challenge.goal.other', { ...values, kind: String(goal.kind) });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}
export { el };

/** A labelled progress bar (0..1): the label is the bar's accessible name. */
export function progressBar(id, label, fraction) {
  const share = Math.max(0, Math.min(1, Number(fraction) || 0));
  const text = el('span', { id: `${id}-label`, class: 'sc-bar-label' }, label);
  const bar = el('progress', { id, max: '100', value: String(Math.round(share * 100)), 'aria-labelledby': `${id}-label` },
    fmtPercent(share));
  return el('div', { class: 'sc-bar' }, text, bar);
}

/** A team challenge: its name, how far the team is, and each goal with its bar. */
export function challengeBlock(ch, prefix) {
  const id = `${prefix}-${ch.id}`;
  const name = localName(ch.names) || ch.id;
  const period = ch.period === 'week' ? 'week' : ch.period === 'day' ? 'day' : 'other';
  const heading = el('h4', { id: `${id}-name` }, name);
  const summary = el('p', { class: 'sc-challenge-summary' }, t('scorecard.challenge.summary', {
    period,
    from: fmtDay(ch.from),
    to: fmtDay(ch.to),
    met: ch.met ? 'yes' : 'no',
  }));
  const bars = (ch.goals || []).map((g, i) => progressBar(`${id}-${i}`, challengeGoalText(g), g.progress));
  return el('div', { class: 'sc-challenge', dataset: { challenge: ch.id, met: String(Boolean(ch.met)) }, role: 'group', 'aria-labelledby': `${id}-name` },
    heading, summary, ...bars);
}

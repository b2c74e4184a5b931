// Numbers in the UI language, shared by the practice desk's panel and its VR panel.

import { getLanguage } from '../../core/i18n.js';

export function fmtNumber(n) {
  return new Intl.NumberFormat(getLanguage()).format(Number(n) || 0);
}

/** A rubric score 0..1 as a percentage ("100 %"). */
export function fmtScore(score) {
  return new Intl.NumberFormat(getLanguage(), { style: 'percent', maximumFractionDigits: 0 }).format(Number(score) || 0);
}

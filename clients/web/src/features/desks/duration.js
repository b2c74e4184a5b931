// Durations for people, in the UI language: estimates ('less than a minute',
// 'about 5 minutes', 'about 1 hour 10 minutes') and elapsed times in lists
// ('45 s', '3 min'). Units come from Intl.NumberFormat.

import { getLanguage, t } from '../../core/i18n.js';

function unit(value, name, display, lang) {
  try {
    return new Intl.NumberFormat(lang, { style: 'unit', unit: name, unitDisplay: display }).format(value);
  } catch {
    return `${value} ${name}`;
  }
}

/** style 'long': an estimate ("about 5 minutes"); 'short': an elapsed time ("3 min"). */
export function duration(seconds, style = 'long', lang = getLanguage()) {
  const s = Math.max(0, Math.round(seconds));
  if (style === 'short') {
    if (s < 60) return unit(s, 'second', 'short', lang);
    if (s < 3600) return unit(Math.floor(s / 60), 'minute', 'short', lang);
    return `${unit(Math.floor(s / 3600), 'hour', 'short', lang)} ${unit(Math.floor(s / 60) % 60, 'minute', 'short', lang)}`;
  }
  if (s < 60) return t('wait.soon', {}, lang);
  const minutes = Math.round(s / 60);
  const text = minutes < 60
    ? unit(minutes, 'minute', 'long', lang)
    : [unit(Math.floor(minutes / 60), 'hour', 'long', lang), minutes % 60 ? unit(minutes % 60, 'minute', 'long', lang) : '']
      .filter(Boolean).join(' ');
  return t('wait.about', { time: text }, lang);
}

// UI strings: the current language, message catalogues, and applying them to the page.
//
// Strings live in JSON message catalogues, one per feature and language
// (src/core/messages/sv.json, src/features/desks/messages/de.json, ...): flat
// key -> ICU MessageFormat, so plurals and selects work and translators' tools
// can read them. Every key exists in every language (tests/web/test_i18n.py).
//
//   await loadMessages(new URL('./messages/', import.meta.url));  // all five languages
//   t('status.joined', { zone: 'Hall' });                        // formatted, cached per message
//   t('called.countdown', { s: 1 });                             // "... 1 second." / "... 2 seconds."
//
// Keys are global: two catalogues defining the same key is an error.
// The module can be imported by node (no DOM access at import time).
//
// In HTML, elements carry data-i18n="key" (text content), and
// data-i18n-attr="aria-label:key;title:key2" for attributes.

import IntlMessageFormat from 'intl-messageformat';

export const LANGS = ['sv', 'da', 'de', 'ja', 'en'];
export const DEFAULT_LANG = 'en';

/** Each language's name in itself, for the language switcher. */
export const LANG_NAMES = { sv: 'Svenska', da: 'Dansk', de: 'Deutsch', ja: '日本語', en: 'English' };

/** lang -> key -> ICU message source (every loaded catalogue merged). */
const MESSAGES = Object.fromEntries(LANGS.map((lang) => [lang, Object.create(null)]));
/** lang -> key -> IntlMessageFormat, made on first use. */
const compiled = Object.fromEntries(LANGS.map((lang) => [lang, new Map()]));
/** Where each key came from (for the duplicate check). */
const origin = new Map();

const STORAGE_KEY = 'servicepoint.lang';
let current = DEFAULT_LANG;
const listeners = new Set();

/**
 * Add one catalogue per language: {sv: {key: message}, ...}. `source` names it
 * in errors. Throws on a key another catalogue already defines.
 */
export function addMessages(catalogues, source = '?') {
  for (const lang of LANGS) {
    for (const [key, message] of Object.entries(catalogues[lang] ?? {})) {
      const from = origin.get(`${lang}:${key}`);
      if (from && from !== source) throw new Error(`i18n: '${key}' is in both ${from} and ${source}`);
      origin.set(`${lang}:${key}`, source);
      MESSAGES[lang][key] = String(message);
      compiled[lang].delete(key);
    }
  }
}

/** Read `<lang>.json` of every language from a folder URL (a feature's messages/). */
export async function readCatalogues(folder) {
  const base = new URL(folder);
  const entries = await Promise.all(LANGS.map(async (lang) => {
    const url = new URL(`${lang}.json`, base);
    const mod = await import(url.href, { with: { type: 'json' } });
    return [lang, mod.default];
  }));
  return Object.fromEntries(entries);
}

/** Load a folder's five catalogues and add them (see addMessages). */
export async function loadMessages(folder) {
  const catalogues = await readCatalogues(folder);
  addMessages(catalogues, String(folder));
  return catalogues;
}

/** Every loaded message, {lang: {key: message}} (a copy, for tests). */
export function allMessages() {
  return Object.fromEntries(LANGS.map((lang) => [lang, { ...MESSAGES[lang] }]));
}

/** Is there a message for `key` (in English, which every key has)? */
export function has(key) {
  return key in MESSAGES[DEFAULT_LANG];
}

/** The best supported language for a list of BCP 47 tags (navigator.languages). */
export function pickLanguage(tags) {
  for (const tag of tags || []) {
    const base = String(tag).toLowerCase().split(/[-_]/)[0];
    // Norwegian readers understand Danish and Swedish better than English.
    const alias = { nb: 'da', no: 'da', nn: 'da' }[base] || base;
    if (LANGS.includes(alias)) return alias;
  }
  return DEFAULT_LANG;
}

/** The language to start with: remembered choice, else the browser's. */
export function initialLanguage() {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (stored && LANGS.includes(stored)) return stored;
  } catch { /* storage may be unavailable (privacy mode); fall through */ }
  const nav = globalThis.navigator;
  return pickLanguage(nav?.languages?.length ? nav.languages : [nav?.language]);
}

export function getLanguage() {
  return current;
}

const warned = new Set();

function formatter(key, lang) {
  let lg = LANGS.includes(lang) ? lang : DEFAULT_LANG;
  if (!(key in MESSAGES[lg])) lg = DEFAULT_LANG;
  const source = MESSAGES[lg][key];
  if (source === undefined) return null;
  let fmt = compiled[lg].get(key);
  if (!fmt) {
    fmt = new IntlMessageFormat(source, lg, undefined, { ignoreTag: true });
    compiled[lg].set(key, fmt);
  }
  return fmt;
}

/**
 * The message `key` in `lang` (default: the current language; English when the
 * language lacks it), formatted with `values` (ICU: {name}, plural, select).
 * An unknown key returns the key itself.
 */
export function t(key, values = {}, lang = current) {
  let fmt;
  try {
    fmt = formatter(key, lang);
    if (!fmt) return key;
    return String(fmt.format(values));
  } catch (e) {
    // A message that does not parse or misses a value: a bug the tests catch.
    if (!warned.has(`${lang}:${key}`)) {
      warned.add(`${lang}:${key}`);
      console.warn(`servicepoint: message '${key}' (${lang}) cannot be formatted: ${e?.message ?? e}`);
    }
    return MESSAGES[DEFAULT_LANG][key] ?? key;
  }
}

/** Fill every data-i18n / data-i18n-attr element under `root`. */
export function applyTranslations(root = globalThis.document) {
  if (!root) return;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

/** Switch language: remember it, update <html lang>, the page, and listeners. */
export function setLanguage(lang) {
  if (!LANGS.includes(lang)) lang = DEFAULT_LANG;
  current = lang;
  try { globalThis.localStorage?.setItem(STORAGE_KEY, lang); } catch { /* not remembered */ }
  const doc = globalThis.document;
  if (doc) {
    doc.documentElement.lang = lang;
    doc.title = `${t('app.title')} – ${t('app.subtitle')}`;
    applyTranslations(doc);
  }
  for (const fn of listeners) fn(lang);
}

/** Call `fn(lang)` after every language switch. Returns an unsubscribe function. */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A service's or zone's name from the world, in the current language. */
export function localName(names, lang = current) {
  if (!names) return '';
  if (typeof names === 'string') return names;
  return names[lang] || names[DEFAULT_LANG] || Object.values(names)[0] || '';
}

/** A language's name (BCP 47 code) in the UI language, e.g. 'so' -> 'Somali'. */
export function langName(code, lang = current) {
  try {
    const name = new Intl.DisplayNames([lang], { type: 'language' }).of(code);
    if (name && name !== code) return name.charAt(0).toLocaleUpperCase(lang) + name.slice(1);
  } catch { /* an old engine or an odd code: show the code */ }
  return code;
}

/** Hours and minutes of a Unix timestamp (seconds), as the page's language writes them. */
export function clockTime(ts) {
  try {
    return new Date(ts * 1000).toLocaleTimeString(globalThis.document?.documentElement.lang || undefined, {
      hour: '2-digit',
      minute: '2-digit',
    });
  } catch {
    return '';
  }
}

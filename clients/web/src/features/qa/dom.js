// Small DOM helpers for the Q&A wall's panels (the in-world dialog and /qa.html).
//
//   h('p', { class: 'qa-meta' }, 'text', child)   // children: strings become text nodes
//   officialIcon()                                // the official answer's shield (aria-hidden)
//
// Nothing here ever parses HTML: every string goes into a text node, so a post
// can never add markup, and can never imitate the official answer's badge.

const SVG = 'http://www.w3.org/2000/svg';

/** An element with attributes (null/undefined skipped; dataset, on<event> handlers) and children. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function option(value, text, selected = false) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  if (selected) o.selected = true;
  return o;
}

function svg(viewBox, paths, cls) {
  const node = document.createElementNS(SVG, 'svg');
  node.setAttribute('viewBox', viewBox);
  node.setAttribute('aria-hidden', 'true');
  node.setAttribute('focusable', 'false');
  node.setAttribute('class', cls);
  for (const [name, attrs] of paths) {
    const p = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) p.setAttribute(k, v);
    node.append(p);
  }
  return node;
}

/** A shield with a check mark: the official answer's icon. */
export function officialIcon() {
  return svg('0 0 24 24', [
    ['path', { d: 'M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5z', class: 'qa-icon-shield' }],
    ['path', { d: 'm8 12 3 3 5-6', class: 'qa-icon-check' }],
  ], 'qa-icon');
}

/** A check mark in a circle: an accepted answer's icon. */
export function acceptedIcon() {
  return svg('0 0 24 24', [
    ['circle', { cx: 12, cy: 12, r: 10, class: 'qa-icon-circle' }],
    ['path', { d: 'm7.5 12.5 3 3 6-7', class: 'qa-icon-check' }],
  ], 'qa-icon');
}

/** Python string indices count code points; JavaScript's count UTF-16 units. */
export function utf16Index(text, codePoints) {
  let units = 0;
  let n = 0;
  for (const ch of text) {
    if (n >= codePoints) break;
    units += ch.length;
    n += 1;
  }
  return units;
}

/** The text split at [start, end) in code points: [before, part, after]. */
export function splitAt(text, start, end) {
  const chars = [...text];
  return [chars.slice(0, start).join(''), chars.slice(start, end).join(''), chars.slice(end).join('')];
}

/** Let a screen reader hear `text` in `region` (a fresh node, so the same text twice is read twice). */
export function say(region, text) {
  if (!region) return;
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

/** Offer `text` as a file download named `filename` (the person's own data). */
export function download(filename, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

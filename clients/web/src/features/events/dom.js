// Small DOM helpers for the events panels (the hall's and /events.html).
//
//   h('p', { class: 'ev-meta', dataset: { id: 3 } }, 'text', child)
//   say(region, text)        // a polite live region hears `text` (even the same twice)
//
// Nothing here parses HTML: every string becomes a text node, so an event's title,
// a question or a caption can never add markup.

/** An element with attributes (null/undefined/false skipped; dataset; on<event>) and children. */
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

/** An <option>. */
export function option(value, text, selected = false) {
  const o = document.createElement('option');
  o.value = String(value);
  o.textContent = text;
  if (selected) o.selected = true;
  return o;
}

/** Let a screen reader hear `text` in `region` (emptied first, so a repeat is read again). */
export function say(region, text) {
  if (!region) return;
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

/** Add the feature's stylesheet once (style-src 'self' allows it). */
export function addStyles(href) {
  if (document.querySelector(`link[data-events-css]`)) return;
  document.head.append(h('link', { rel: 'stylesheet', href, 'data-events-css': true }));
}

/**
 * Re-render `container` with `fn()` and give focus back to the control that had it
 * (found again by its data-action and data-key/data-event/data-id), so a list that
 * is drawn afresh does not throw the keyboard user back to the top of the page.
 */
export function keepFocus(container, fn) {
  const active = document.activeElement;
  const inside = active && container.contains(active) && active !== container;
  const key = inside ? { action: active.dataset.action, event: active.dataset.event, id: active.dataset.id, q: active.dataset.q } : null;
  fn();
  if (!key || container.contains(active)) return;
  const sel = Object.entries(key).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `[data-${k}="${CSS.escape(String(v))}"]`).join('');
  const again = sel ? container.querySelector(sel) : null;
  (again || container.closest('[tabindex]') || null)?.focus();
}

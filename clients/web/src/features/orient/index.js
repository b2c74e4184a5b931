// Orientation: the overview map in a corner of the view, the route of a walk
// (on the floor of the 3D view, on the 2D map and on the overview map), and
// "Describe surroundings" — the nearest desk and landmarks with distance and
// direction relative to where the avatar faces, the queue where the page knows
// it, and how many people are near — spoken in a polite live region.
//
// Keys in the hall view: L describes, M shows or hides the overview map (only
// while the view has the focus, so they never take a letter from a text field).
//
// Listens to: ticket (the citizen's own ticket), queue and duty (staff on duty
// are sent the queue): the waiting counts it speaks are only those; desk_board
// (the public display: whether a desk is open, which ticket it serves).
// Uses: app.view.showRoute(points | null) (scene3d.js, view2d.js).
// Test hook: orient ({bar, minimap: {visible, drawn}, route, routeShown, description}).

import { t } from '../../core/i18n.js';
import { sentence, surroundings } from './describe.js';
import { Minimap } from './minimap.js';

export const name = 'orient';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);
const MAP_KEY = 'servicepoint.minimap';
const MAP_EVERY_S = 0.1; // the overview map is redrawn ten times a second
const ARRIVED_M = 0.6;

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children);
  return node;
}

/** The overview map's remembered setting; else on over the 3D view, off over the 2D map (it is one). */
function mapWanted(kind) {
  let stored = null;
  try { stored = globalThis.localStorage?.getItem(MAP_KEY); } catch { /* storage may be unavailable */ }
  return stored ? stored === 'on' : kind !== '2d';
}

export function install(app) {
  const canvas = app.view.canvas;
  const wrap = canvas.closest('.view-wrap') ?? canvas.parentNode;

  // --- the page: the overview map over the view, the bar under it ------------------------
  const mapCanvas = h('canvas', { id: 'orient-map', role: 'img', 'data-i18n-attr': 'aria-label:orient.map_label',
    'aria-label': t('orient.map_label') });
  const mapBox = h('div', { id: 'orient-map-box', class: 'orient-map', hidden: true }, mapCanvas);
  wrap.append(mapBox);

  const describeButton = h('button', { type: 'button', id: 'orient-describe', class: 'secondary',
    'aria-describedby': 'orient-help', 'data-i18n': 'orient.describe' }, t('orient.describe'));
  const mapButton = h('button', { type: 'button', id: 'orient-map-toggle', class: 'secondary', 'aria-pressed': 'true',
    'aria-controls': 'orient-map-box', 'data-i18n': 'orient.map' }, t('orient.map'));
  const live = h('p', { id: 'orient-live', class: 'orient-live', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const help = h('p', { id: 'orient-help', class: 'help', 'data-i18n': 'orient.help' }, t('orient.help'));
  const bar = h('div', { id: 'orient-bar', class: 'orient-bar', role: 'group', hidden: true,
    'data-i18n-attr': 'aria-label:orient.bar', 'aria-label': t('orient.bar') },
  h('div', { class: 'orient-actions' }, describeButton, mapButton), live, help);
  wrap.after(bar);
  const described = (canvas.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  if (!described.includes('orient-help')) canvas.setAttribute('aria-describedby', [...described, 'orient-help'].join(' '));

  const minimap = new Minimap(mapCanvas, { onPick: (x, z) => { if (app.walk(x, z)) goal = null; } });

  // --- state ---------------------------------------------------------------------------------------
  let showMap = mapWanted(app.view.kind);
  let ticket = null; // the citizen's own `ticket`
  let waiting = null; // Map(desk id -> waiting tickets of its services), staff on duty only
  let board = null; // Map(desk id -> {staffed, serving}) from the public queue display
  let description = '';
  let goal = null; // the "walk to" place being walked to: {label, x, z}
  let route = null; // the drawn route: [{x, z}, ...] from the avatar, or null
  let routeKey = '';
  let lastMapS = -Infinity;
  let sayTimer = null;

  const inHall = () => app.inHall && Boolean(app.local);

  function say(text) {
    clearTimeout(sayTimer);
    live.textContent = '';
    // A new text node after a beat, so the same sentence twice is spoken twice.
    sayTimer = setTimeout(() => { live.textContent = text; }, 50);
  }

  function people() {
    const rt = app.others.renderTime(performance.now() / 1000);
    return [...app.others.all.values()].map((o) => ({ ...o.buffer.sample(rt), role: o.role }));
  }

  function describe() {
    if (!inHall() || !app.world) return '';
    const local = app.local;
    const facts = surroundings(app.world, { x: local.x, z: local.z, yaw: local.yaw }, people(), { waiting, ticket, board });
    description = sentence(facts);
    say(description);
    return description;
  }

  function render() {
    const on = inHall();
    bar.hidden = !on;
    mapBox.hidden = !(on && showMap);
    mapButton.setAttribute('aria-pressed', showMap ? 'true' : 'false');
  }

  function toggleMap(announce) {
    showMap = !showMap;
    try { globalThis.localStorage?.setItem(MAP_KEY, showMap ? 'on' : 'off'); } catch { /* not remembered */ }
    render();
    if (announce) say(t(showMap ? 'orient.map_shown' : 'orient.map_hidden'));
    if (showMap) drawMap();
  }

  describeButton.addEventListener('click', () => describe());
  mapButton.addEventListener('click', () => toggleMap(false));
  canvas.addEventListener('keydown', (e) => {
    if (e.repeat || e.ctrlKey || e.altKey || e.metaKey || !inHall()) return;
    if (e.code === 'KeyL') {
      e.preventDefault();
      describe();
    } else if (e.code === 'KeyM') {
      e.preventDefault();
      toggleMap(true);
    }
  });

  // --- the route of a walk, and the overview map -------------------------------------------------
  function currentRoute() {
    const local = app.local;
    if (!inHall() || !local.route.length) return null;
    return [{ x: local.x, z: local.z }, ...local.route.map((p) => ({ x: p.x, z: p.z }))];
  }

  function drawMap() {
    if (mapBox.hidden) return;
    const local = app.local;
    minimap.draw({
      self: inHall() ? { x: local.x, z: local.z, yaw: local.yaw } : null,
      people: inHall() ? people() : [],
      route,
    });
  }

  app.onFrame((nowS) => {
    const next = currentRoute();
    const key = next ? next.map((p) => `${p.x.toFixed(2)},${p.z.toFixed(2)}`).join(' ') : '';
    let redraw = false;
    if (key !== routeKey) {
      if (route && !next) arrived();
      redraw = !route !== !next; // a walk began or ended: the map shows it at once
      routeKey = key;
      route = next;
      app.view.showRoute?.(route);
    }
    if (redraw || nowS - lastMapS >= MAP_EVERY_S) {
      lastMapS = nowS;
      drawMap();
    }
  });

  /** The walk ended: at the chosen place, say so. */
  function arrived() {
    const local = app.local;
    if (goal && local && Math.hypot(local.x - goal.x, local.z - goal.z) < ARRIVED_M) say(t('orient.arrived', { place: goal.label }));
    goal = null;
  }

  app.onPlace((place) => { goal = { label: place.label, x: place.x, z: place.z }; });

  // --- what the page is told about queues ---------------------------------------------------------------
  app.on('ticket', (msg) => { ticket = { ticket: msg.ticket, service: msg.service, status: msg.status, position: msg.position }; });
  app.on('queue', (msg) => {
    waiting = new Map();
    for (const desk of app.world?.desks || []) {
      const services = new Set(desk.services || []);
      waiting.set(desk.id, (msg.tickets || []).filter((tk) => tk.status === 'waiting' && services.has(tk.service)).length);
    }
  });
  app.on('duty', (msg) => { if (msg.status === 'off') waiting = null; });
  app.on('desk_board', (msg) => { board = new Map((msg.desks || []).map((d) => [d.desk, d])); });

  // --- lifecycle ------------------------------------------------------------------------------------------------
  function reset() {
    ticket = null;
    waiting = null;
    board = null;
    goal = null;
    description = '';
    clearTimeout(sayTimer);
    live.textContent = '';
  }
  app.onWelcome((msg) => {
    minimap.setWorld(app.world);
    if (!msg.resumed) reset();
    waiting = null; // duty ends with a connection
  });
  app.onJoined(() => { render(); drawMap(); });
  app.onLeft(() => {
    reset();
    route = null;
    routeKey = '';
    app.view.showRoute?.(null);
    render();
  });
  // A description in the language one left is stale: it is said again on request.
  app.onLanguage(() => {
    description = '';
    clearTimeout(sayTimer);
    live.textContent = '';
  });

  app.expose(() => ({
    orient: {
      bar: !bar.hidden,
      minimap: { visible: !mapBox.hidden, drawn: { ...minimap.drawn } },
      route: route ? route.slice(1).map((p) => ({ ...p })) : null,
      routeShown: { view: Boolean(app.view.routeShown?.()), minimap: !mapBox.hidden && minimap.drawn.route > 0 },
      description,
    },
  }), { describeSurroundings: describe });
}

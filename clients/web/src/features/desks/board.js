// The public queue display (`desk_board`): each desk's sign, the hall's queue
// display board, and their text equivalents.
//
//   installBoard(app);   // from the desks feature's install()
//
// - 3D: above each desk's counter a sign (a canvas texture, drawn at about four
//   times the pixels per metre of a name tag so it stays sharp up close): the
//   desk's name, its services, and "Now serving A-014", "Open" or "Closed", with
//   a lamp that is green while staff are there. Between the middle desks a queue
//   display board on two posts: the latest call large ("Now serving A-014 at
//   Registration"), the earlier ones under it.
// - 2D map: the same status as text under each desk, and the latest call by the
//   desks.
// - HTML (#board-panel): a "Now serving" list (aria-live polite: a new call is
//   added at the top and read out) and each desk's state, for screen readers
//   and anyone without the view.
// Everything is in the visitor's language and redrawn when it changes. Japanese
// needs a font: the page ships Noto Sans JP (board.css), and canvases are drawn
// again once it has loaded.
//
// Test hook: deskBoard {desks:[{desk, staffed, serving}], calls:[{ticket, desk}],
// signs: {deskId: [lines]}, display: [lines], view: '3d' | '2d' | null}.

import * as THREE from 'three';
import { getLanguage, localName, t } from '../../core/i18n.js';
import { deskById, deskName, servicesOf } from '../../world.js';
import { fitText } from '../../labels.js';

const $ = (id) => document.getElementById(id);

// Local Japanese fonts first: the page's own (Noto Sans JP) is fetched only where none is installed.
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", Meiryo, "Noto Sans JP", sans-serif';
const BRAND = '#0c4a6e'; // the page's brand blue: white on it is 10:1
const OPEN = '#166534'; // green-800: white on it is 7:1
const SHUT = '#374151'; // grey-700: white on it is 10:1
const SIGN = { w: 1024, h: 512, mw: 2.2, mh: 1.1, y: 2.75 }; // ~465 px per metre
const DISPLAY = { w: 2048, h: 1024, mw: 4.4, mh: 2.2, y: 3.6 }; // ~465 px per metre
const DISPLAY_DRAW = 1536 / 2048; // drawn in a 1536 x 768 layout, scaled up
const DISPLAY_AHEAD_M = 1.2; // in line with the desk signs, between the middle two desks
const MAP_AHEAD_M = 7.5; // the 2D map shows the display's text this far in front of the desks
const EARLIER = 3; // earlier calls listed under the latest

// -- what the board says (pure) ---------------------------------------------------------

/** The status line of a desk: "Now serving A-014", "Open" or "Closed". */
export function deskStatus(entry) {
  if (entry?.serving) return t('deskboard.sign_serving', { ticket: entry.serving });
  return entry?.staffed ? t('deskboard.open') : t('deskboard.closed');
}

/** A desk sign's lines: name, one line per service, the status. */
export function signLines(world, desk, entry) {
  return [
    deskName(desk),
    ...servicesOf(world, desk).map((s) => `${s.letter} · ${localName(s.name)}`),
    deskStatus(entry),
  ];
}

/** One call as a sentence: "A-014 at Registration". */
export function callText(world, call) {
  return t('deskboard.call', { ticket: call.ticket, desk: deskName(deskById(world, call.desk)) || call.desk });
}

/** The queue display's lines: heading, the latest call, earlier calls (or "none yet"). */
export function displayLines(world, calls) {
  if (!calls.length) return [t('deskboard.heading'), t('deskboard.none')];
  const [latest, ...rest] = calls;
  const desk = deskName(deskById(world, latest.desk)) || latest.desk;
  return [
    t('deskboard.heading'),
    t('deskboard.now', { ticket: latest.ticket, desk }),
    ...(rest.length ? [t('deskboard.earlier'), ...rest.slice(0, EARLIER).map((c) => callText(world, c))] : []),
  ];
}

// -- canvas drawing ----------------------------------------------------------------------

function drawSign(canvas, lines, entry) {
  const { w, h } = SIGN;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  const status = lines.at(-1);
  const services = lines.slice(1, -1).slice(0, 2);
  ctx.fillStyle = BRAND;
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'middle';
  ctx.font = `700 84px ${FONT}`;
  ctx.fillText(fitText(ctx, lines[0], w - 80), 40, 78);
  ctx.font = `500 48px ${FONT}`;
  services.forEach((line, i) => ctx.fillText(fitText(ctx, line, w - 80), 40, 178 + i * 64));
  // The status band: green while the desk is open, grey while closed.
  ctx.fillStyle = entry?.staffed || entry?.serving ? OPEN : SHUT;
  ctx.fillRect(0, h - 132, w, 132);
  ctx.fillStyle = '#ffffff';
  ctx.font = `700 76px ${FONT}`;
  ctx.fillText(fitText(ctx, status, w - 80), 40, h - 66);
}

/** The display's face: the heading, the latest call large (ticket, then desk), earlier calls. */
function drawDisplay(canvas, world, calls) {
  canvas.width = DISPLAY.w;
  canvas.height = DISPLAY.h;
  const ctx = canvas.getContext('2d');
  ctx.scale(1 / DISPLAY_DRAW, 1 / DISPLAY_DRAW);
  const w = DISPLAY.w * DISPLAY_DRAW, h = DISPLAY.h * DISPLAY_DRAW;
  const lines = displayLines(world, calls);
  ctx.fillStyle = '#0f172a'; // slate-900 screen
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = BRAND;
  ctx.fillRect(0, 0, w, 140);
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'middle';
  ctx.font = `700 84px ${FONT}`;
  ctx.fillText(fitText(ctx, lines[0], w - 96), 48, 72);
  if (!calls.length) {
    ctx.font = `500 64px ${FONT}`;
    ctx.fillText(fitText(ctx, lines[1], w - 96), 48, 300);
    return;
  }
  const [latest, ...rest] = calls;
  ctx.fillStyle = '#fde68a'; // amber-200 on slate-900: 13:1
  ctx.font = `700 180px ${FONT}`;
  const ticket = fitText(ctx, latest.ticket, w * 0.5);
  ctx.fillText(ticket, 48, 290);
  const after = 48 + ctx.measureText(ticket).width + 48;
  ctx.fillStyle = '#ffffff';
  ctx.font = `700 84px ${FONT}`;
  ctx.fillText(fitText(ctx, `→ ${deskName(deskById(world, latest.desk)) || latest.desk}`, w - after - 48), after, 300);
  if (rest.length) {
    ctx.fillStyle = '#cbd5e1';
    ctx.font = `600 52px ${FONT}`;
    ctx.fillText(fitText(ctx, t('deskboard.earlier'), w - 96), 48, 470);
    ctx.fillStyle = '#ffffff';
    ctx.font = `500 60px ${FONT}`;
    rest.slice(0, EARLIER).forEach((c, i) => ctx.fillText(fitText(ctx, callText(world, c), w - 96), 48, 556 + i * 72));
  }
}

/** A canvas texture with mipmaps (power-of-two sizes) so text stays smooth from afar too. */
function texture(canvas, renderer) {
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.minFilter = THREE.LinearMipmapLinearFilter;
  tex.generateMipmaps = true;
  tex.anisotropy = Math.min(8, renderer?.capabilities?.getMaxAnisotropy?.() || 1);
  return tex;
}

/** Where the queue display stands: at the desks' middle, in line with their signs, facing the same way. */
export function displaySpot(world, ahead = DISPLAY_AHEAD_M) {
  const desks = world?.desks || [];
  if (!desks.length) return null;
  const x = desks.reduce((a, d) => a + d.position[0], 0) / desks.length;
  const z = desks.reduce((a, d) => a + d.position[1], 0) / desks.length;
  const yaw = desks[0].yaw || 0;
  return { x: x - Math.sin(yaw) * ahead, z: z - Math.cos(yaw) * ahead, yaw };
}

// -- 3D ------------------------------------------------------------------------------------

function board3d(view) {
  const group = new THREE.Group();
  group.name = 'desk-board';
  view.scene.add(group);
  const signs = new Map(); // desk id -> {canvas, texture, lamp}
  let display = null; // {canvas, texture}

  function clear() {
    group.traverse((o) => { o.geometry?.dispose(); o.material?.map?.dispose?.(); o.material?.dispose?.(); });
    group.clear();
    signs.clear();
    display = null;
  }

  /** A panel facing the way `yaw` faces (a plane faces +z; turned by yaw + pi). */
  function panel(spec, x, z, yaw, postTo, frameColor) {
    const g = new THREE.Group();
    g.position.set(x, 0, z);
    g.rotation.y = yaw + Math.PI;
    const frame = new THREE.MeshStandardMaterial({ color: frameColor, roughness: 0.7 });
    const back = new THREE.Mesh(new THREE.BoxGeometry(spec.mw + 0.1, spec.mh + 0.1, 0.08), frame);
    back.position.set(0, spec.y, -0.05);
    g.add(back);
    const top = spec.y - spec.mh / 2;
    for (const side of [-1, 1]) {
      const post = new THREE.Mesh(new THREE.BoxGeometry(0.08, top - postTo, 0.08), frame);
      post.position.set(side * (spec.mw / 2 - 0.15), postTo + (top - postTo) / 2, -0.05);
      g.add(post);
    }
    const canvas = document.createElement('canvas');
    canvas.width = spec.w;
    canvas.height = spec.h;
    const tex = texture(canvas, view.renderer);
    const face = new THREE.Mesh(new THREE.PlaneGeometry(spec.mw, spec.mh), new THREE.MeshBasicMaterial({ map: tex }));
    face.position.set(0, spec.y, 0.001);
    g.add(face);
    group.add(g);
    return { g, canvas, texture: tex };
  }

  return {
    kind: '3d',
    setWorld(world) {
      clear();
      for (const desk of world?.desks || []) {
        const yaw = desk.yaw || 0;
        // Above the counter (1 m ahead of the staff spot), high enough to see over the staff.
        const x = desk.position[0] - Math.sin(yaw) * 1.2;
        const z = desk.position[1] - Math.cos(yaw) * 1.2;
        const sign = panel(SIGN, x, z, yaw, 1.05, 0x1e293b);
        sign.g.name = `desk-sign:${desk.id}`;
        const lamp = new THREE.Mesh(
          new THREE.SphereGeometry(0.12, 16, 12),
          new THREE.MeshStandardMaterial({ color: 0x4b5563, emissive: 0x000000 }),
        );
        lamp.position.set(SIGN.mw / 2 + 0.2, SIGN.y + SIGN.mh / 2 - 0.1, 0);
        sign.g.add(lamp);
        signs.set(desk.id, { ...sign, lamp });
      }
      const spot = displaySpot(world);
      if (spot) {
        display = panel(DISPLAY, spot.x, spot.z, spot.yaw, 0, 0x1e293b);
        display.g.name = 'queue-display';
      }
    },
    draw(world, board) {
      for (const desk of world?.desks || []) {
        const sign = signs.get(desk.id);
        if (!sign) continue;
        const entry = board.byDesk.get(desk.id);
        drawSign(sign.canvas, signLines(world, desk, entry), entry);
        sign.texture.needsUpdate = true;
        const on = Boolean(entry?.staffed || entry?.serving);
        sign.lamp.material.color.setHex(on ? 0x22c55e : 0x4b5563);
        sign.lamp.material.emissive.setHex(on ? 0x15803d : 0x000000);
      }
      if (display) {
        drawDisplay(display.canvas, world, board.calls);
        display.texture.needsUpdate = true;
      }
    },
    get drawn() { return signs.size > 0; },
  };
}

// -- 2D map ----------------------------------------------------------------------------------

function board2d(view) {
  let world = null;
  let board = null;
  view.addOverlay?.((ctx, { sx, sy, scale }) => {
    if (!world || !board) return;
    ctx.textAlign = 'center';
    for (const desk of world.desks || []) {
      const entry = board.byDesk.get(desk.id);
      const [x, z] = desk.position;
      const text = deskStatus(entry);
      ctx.font = `700 ${Math.max(11, scale * 1.2)}px ${FONT}`;
      const w = ctx.measureText(text).width + 8;
      const h = Math.max(14, scale * 1.6);
      const y = sy(z) + scale * 2.1;
      ctx.fillStyle = entry?.staffed || entry?.serving ? OPEN : SHUT;
      ctx.fillRect(sx(x) - w / 2, y - h / 2, w, h);
      ctx.fillStyle = '#ffffff';
      ctx.textBaseline = 'middle';
      ctx.fillText(text, sx(x), y);
    }
    const spot = displaySpot(world, MAP_AHEAD_M); // on the map, clear of the desks' labels
    if (spot) {
      const lines = displayLines(world, board.calls).slice(0, 2);
      ctx.font = `600 ${Math.max(11, scale * 1.2)}px ${FONT}`;
      const w = Math.max(...lines.map((l) => ctx.measureText(l).width)) + 12;
      const lh = Math.max(14, scale * 1.5);
      ctx.fillStyle = '#0f172a';
      ctx.fillRect(sx(spot.x) - w / 2, sy(spot.z) - lh, w, lh * 2);
      ctx.fillStyle = '#ffffff';
      ctx.textBaseline = 'middle';
      lines.forEach((line, i) => ctx.fillText(line, sx(spot.x), sy(spot.z) - lh / 2 + i * lh));
    }
    ctx.textBaseline = 'alphabetic';
  });
  return {
    kind: '2d',
    setWorld(w) { world = w; },
    draw(w, b) { world = w; board = b; },
    get drawn() { return Boolean(world); },
  };
}

// -- the HTML equivalent -------------------------------------------------------------------------

class BoardList {
  constructor() {
    this.panel = $('board-panel');
    this.calls = $('board-calls');
    this.none = $('board-none');
    this.desks = $('board-desks');
  }

  render(world, board) {
    // Calls: keep the items that are still listed (so only a new call is an addition the
    // live region reads out), add new ones at the top, drop the oldest.
    const keep = new Map([...this.calls.children].map((li) => [li.dataset.key, li]));
    const items = board.calls.map((call) => {
      const key = `${call.ticket}@${call.desk}`;
      const li = keep.get(key) ?? document.createElement('li');
      li.dataset.key = key;
      li.dataset.ticket = call.ticket;
      li.dataset.desk = call.desk;
      const text = callText(world, call);
      if (li.textContent !== text) li.textContent = text;
      return li;
    });
    for (const li of [...this.calls.children]) if (!items.includes(li)) li.remove();
    items.forEach((li, i) => {
      if (this.calls.children[i] !== li) this.calls.insertBefore(li, this.calls.children[i] ?? null);
    });
    this.none.hidden = board.calls.length > 0;
    this.desks.replaceChildren(...(world?.desks || []).map((desk) => {
      const entry = board.byDesk.get(desk.id);
      const li = document.createElement('li');
      li.dataset.desk = desk.id;
      const name = document.createElement('strong');
      const letters = servicesOf(world, desk).map((s) => s.letter).join(', ');
      name.textContent = letters ? `${deskName(desk)} (${letters})` : deskName(desk);
      const status = document.createElement('span');
      status.className = entry?.staffed || entry?.serving ? 'board-open' : 'board-closed';
      status.textContent = deskStatus(entry);
      li.append(name, ' ', status);
      return li;
    }));
  }

  show(visible) {
    this.panel.hidden = !visible;
  }
}

// -- installing --------------------------------------------------------------------------------------

export function installBoard(app) {
  const scene = app.view?.kind === '3d' ? board3d(app.view) : board2d(app.view);
  const list = new BoardList();
  let board = { desks: [], calls: [], byDesk: new Map() };
  let received = false;

  function draw() {
    if (!app.world) return;
    scene.draw(app.world, board);
    list.render(app.world, board);
  }

  app.onWelcome((msg) => {
    scene.setWorld(msg.world);
    board = { desks: [], calls: [], byDesk: new Map() };
    received = false;
    draw();
  });
  app.onJoined(() => list.show(true));
  app.onLeft(() => list.show(false));
  app.on('desk_board', (msg) => {
    board = { desks: msg.desks, calls: msg.calls, byDesk: new Map(msg.desks.map((d) => [d.desk, d])) };
    received = true;
    draw();
  });
  app.onLanguage(() => {
    draw();
    loadFont();
  });

  // Japanese glyphs may come from the page's own font (board.css): draw the signs, name
  // tags and labels again once it has loaded.
  function loadFont() {
    if (getLanguage() !== 'ja' || !document.fonts?.load) return;
    for (const weight of [400, 700]) {
      const href = `/node_modules/@fontsource/noto-sans-jp/japanese-${weight}.css`;
      if (document.querySelector(`link[href="${href}"]`)) continue;
      document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href }));
    }
    const sample = [t('deskboard.heading'), t('deskboard.open'), t('deskboard.closed')].join('');
    Promise.all(['700 48px "Noto Sans JP"', '400 48px "Noto Sans JP"'].map((f) => document.fonts.load(f, sample)))
      .then(() => {
        draw();
        app.view?.relabel?.();
      }, () => {});
  }
  loadFont();

  app.expose(() => ({
    deskBoard: {
      received,
      desks: board.desks.map((d) => ({ ...d })),
      calls: board.calls.map((c) => ({ ...c })),
      signs: Object.fromEntries((app.world?.desks || []).map((d) => [d.id, signLines(app.world, d, board.byDesk.get(d.id))])),
      display: app.world ? displayLines(app.world, board.calls) : [],
      view: scene.drawn ? scene.kind : null,
    },
  }));
}

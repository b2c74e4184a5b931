// The schedule board in the lobby: in 3D a board on two posts whose face is a
// canvas texture listing the live and upcoming events (from `event_schedule`);
// in the 2D map a labelled marker. Choosing it (a click, a VR controller's
// select, Enter in the view when standing in front of it) opens the schedule.
//
// Where: world.events_board {position, yaw} when the world has one, else a spot
// in the entrance lobby a few metres east of the spawn point, facing it.
//
//   const board = createBoard(view, { onSelect });
//   board.setWorld(world); board.setEvents(list); board.relabel();
//   board.hit(clientX, clientY) -> bool; board.standPoint() -> {x, z} | null; board.screenPoint()

import * as THREE from 'three';
import { t } from '../../core/i18n.js';
import { hitsObject, screenPointOf } from '../../scene3d.js';
import { landmarkStandPoint } from '../../world.js';
import { xrHub } from '../../xr.js';
import { eventTitle, eventWhen } from './format.js';
import { fitText } from '../../labels.js';

const W = 1024;
const H = 640;
const BOARD_W = 3.4;
const BOARD_H = 2.1;
const BOARD_Y = 1.75;
const COLOR = '#5b21b6'; // violet-800: the auditorium's colour, 8.6:1 on white
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';
export const STAND_M = 2.5;

/** The board's place: the world's, else 10 m east and 8 m north of the spawn, facing west. */
export function boardSpot(world) {
  if (world?.events_board?.position) return { position: world.events_board.position, yaw: world.events_board.yaw || 0 };
  const lobby = (world?.zones || []).find((z) => z.kind === 'entrance');
  const [sx, sz] = world?.spawn || [0, 0];
  let x = sx + 10;
  let z = sz - 8;
  if (lobby) {
    const [x0, z0, x1, z1] = lobby.rect;
    x = Math.min(Math.max(x, x0 + 3), x1 - 3);
    z = Math.min(Math.max(z, z0 + 3), z1 - 3);
  }
  return { position: [x, z], yaw: Math.PI / 2 };
}

/** Draw the face: the heading, then the next events with their times. */
export function drawFace(canvas, events) {
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#f5f3ff';
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = COLOR;
  ctx.fillRect(0, 0, W, 96);
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'middle';
  ctx.font = `700 48px ${FONT}`;
  ctx.fillText(fitText(ctx, t('events.board.title'), W - 64), 32, 50);
  let y = 150;
  const shown = (events || []).filter((e) => e.status === 'live' || e.status === 'scheduled').slice(0, 5);
  if (!shown.length) {
    ctx.fillStyle = '#3f3f46';
    ctx.font = `400 30px ${FONT}`;
    ctx.fillText(fitText(ctx, t('events.none'), W - 64), 32, y);
  }
  for (const ev of shown) {
    ctx.fillStyle = '#111827';
    ctx.font = `600 32px ${FONT}`;
    ctx.fillText(fitText(ctx, eventTitle(ev), W - 64), 32, y);
    y += 38;
    const live = ev.status === 'live';
    ctx.fillStyle = live ? '#166534' : '#3f3f46';
    ctx.font = `${live ? 700 : 400} 24px ${FONT}`;
    const when = live ? `${t('events.status.live')} · ${t('events.attendees', { n: ev.attendees || 0 })}` : eventWhen(ev);
    ctx.fillText(fitText(ctx, when, W - 64), 32, y);
    y += 54;
  }
  ctx.fillStyle = '#3f3f46';
  ctx.font = `400 22px ${FONT}`;
  ctx.fillText(fitText(ctx, t('events.board.hint'), W - 64), 32, H - 30);
}

function board3d(view, onSelect) {
  let group = null;
  let face = null;
  let texture = null;
  let spot = null;
  let events = [];
  let removeXr = null;
  const canvas = document.createElement('canvas');

  function dispose() {
    removeXr?.();
    removeXr = null;
    if (!group) return;
    view.scene.remove(group);
    group.traverse((o) => { o.geometry?.dispose(); o.material?.map?.dispose?.(); o.material?.dispose?.(); });
    group = null;
    face = null;
    texture = null;
  }

  function redraw() {
    if (!texture) return;
    drawFace(canvas, events);
    texture.needsUpdate = true;
  }

  return {
    kind: '3d',
    setWorld(world) {
      dispose();
      if (!world) return;
      spot = boardSpot(world);
      const [x, z] = spot.position;
      group = new THREE.Group();
      group.name = 'events-board';
      group.position.set(x, 0, z);
      group.rotation.y = spot.yaw + Math.PI;
      const frameMat = new THREE.MeshStandardMaterial({ color: 0x5b21b6, roughness: 0.8 });
      const back = new THREE.Mesh(new THREE.BoxGeometry(BOARD_W + 0.2, BOARD_H + 0.2, 0.1), frameMat);
      back.position.set(0, BOARD_Y, -0.06);
      group.add(back);
      for (const side of [-1, 1]) {
        const post = new THREE.Mesh(new THREE.BoxGeometry(0.12, BOARD_Y + BOARD_H / 2, 0.12), frameMat);
        post.position.set(side * (BOARD_W / 2 + 0.05), (BOARD_Y + BOARD_H / 2) / 2, -0.06);
        group.add(post);
      }
      drawFace(canvas, events);
      texture = new THREE.CanvasTexture(canvas);
      texture.colorSpace = THREE.SRGBColorSpace;
      texture.minFilter = THREE.LinearFilter;
      texture.generateMipmaps = false;
      face = new THREE.Mesh(new THREE.PlaneGeometry(BOARD_W, BOARD_H), new THREE.MeshBasicMaterial({ map: texture }));
      face.position.set(0, BOARD_Y, 0.001);
      face.name = 'events-board-face';
      group.add(face);
      view.scene.add(group);
      removeXr = xrHub.addInteractive(face, { onSelect: () => onSelect?.() });
    },
    setEvents(list) {
      events = list || [];
      redraw();
    },
    relabel: redraw,
    hit: (clientX, clientY) => Boolean(group) && hitsObject(view, group, clientX, clientY),
    screenPoint: () => (face ? screenPointOf(view, face) : null),
    standPoint: () => (spot ? landmarkStandPoint(spot, STAND_M) : null),
    get drawn() { return Boolean(face); },
  };
}

function board2d(view) {
  let spot = null;
  let last = null;
  view.addOverlay?.((ctx, { sx, sy, scale }) => {
    if (!spot) return;
    const [x, z] = spot.position;
    const r = Math.max(7, scale * 1.1);
    const px = sx(x), py = sy(z);
    ctx.fillStyle = COLOR;
    ctx.fillRect(px - r * 0.45, py - r, r * 0.9, r * 2);
    ctx.fillStyle = '#ffffff';
    ctx.font = `700 ${Math.round(r * 1.0)}px ${FONT}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('≡', px, py);
    ctx.textBaseline = 'alphabetic';
    ctx.fillStyle = '#4c1d95';
    ctx.font = `600 ${Math.max(11, scale * 1.2)}px ${FONT}`;
    ctx.fillText(t('events.board.title'), px, py + r + Math.max(12, scale * 1.4));
    last = { x: px, y: py, r };
  });
  return {
    kind: '2d',
    setWorld(world) { spot = world ? boardSpot(world) : null; last = null; },
    setEvents() {},
    relabel() {},
    hit(clientX, clientY) {
      if (!spot || !last) return false;
      const rect = view.canvas.getBoundingClientRect();
      return Math.hypot(clientX - rect.left - last.x, clientY - rect.top - last.y) <= last.r * 1.6;
    },
    screenPoint() {
      if (!last) return null;
      const rect = view.canvas.getBoundingClientRect();
      return { x: rect.left + last.x, y: rect.top + last.y };
    },
    standPoint: () => (spot ? landmarkStandPoint(spot, STAND_M) : null),
    get drawn() { return Boolean(spot && last); },
  };
}

export function createBoard(view, { onSelect } = {}) {
  return view.kind === '3d' ? board3d(view, onSelect) : board2d(view);
}

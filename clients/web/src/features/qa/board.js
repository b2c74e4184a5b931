// The Q&A wall's board in the hall (world.qa_wall): in 3D a notice board on two
// posts whose face is a canvas texture listing the newest and the most-voted
// questions (from `qa_wall`); in the 2D map a labelled marker. Choosing it (a
// click on the board or the marker) opens the Q&A panel; so do the HUD button
// and Enter in the view when standing near it.
//
//   const board = createBoard(view);     // view: app.view (3D or 2D)
//   board.setWorld(world); board.setWall(msg); board.relabel();
//   board.hit(clientX, clientY) -> bool; board.standPoint() -> {x, z} | null

import * as THREE from 'three';
import { localName, t } from '../../core/i18n.js';
import { hitsObject, screenPointOf } from '../../scene3d.js';
import { landmarkStandPoint } from '../../world.js';
import { fitText } from '../../labels.js';

const W = 1024;
const H = 640;
const BOARD_W = 3.6;
const BOARD_H = 2.25;
const BOARD_Y = 1.75; // centre height
const COLOR = '#9a3412'; // the wall's frame and 2D marker (orange-800: 7:1 on white)
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';
/** Metres in front of the board where a person stands to read it. */
export const STAND_M = 2.5;

/** Draw the board's face: the wall's name, then two columns of questions. */
export function drawFace(canvas, wall, title) {
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fffbeb';
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = COLOR;
  ctx.fillRect(0, 0, W, 96);
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'middle';
  ctx.font = `700 48px ${FONT}`;
  ctx.fillText(fitText(ctx, title, W - 64), 32, 50);
  const columns = [
    [t('qa.board.newest'), wall?.newest || []],
    [t('qa.board.top'), wall?.top || []],
  ];
  const colW = (W - 96) / 2;
  columns.forEach(([heading, posts], i) => {
    const x = 32 + i * (colW + 32);
    let y = 140;
    ctx.fillStyle = '#7c2d12';
    ctx.font = `700 32px ${FONT}`;
    ctx.fillText(fitText(ctx, heading, colW), x, y);
    y += 52;
    if (!posts.length) {
      ctx.fillStyle = '#44403c';
      ctx.font = `400 26px ${FONT}`;
      ctx.fillText(fitText(ctx, t('qa.board.empty'), colW), x, y);
      return;
    }
    for (const post of posts.slice(0, 5)) {
      ctx.fillStyle = '#111827';
      ctx.font = `600 28px ${FONT}`;
      ctx.fillText(fitText(ctx, post.title || '', colW), x, y);
      y += 34;
      const status = post.status === 'official' ? t('qa.board.official') : t(`qa.status.${post.status || 'open'}`);
      ctx.fillStyle = post.status === 'official' ? '#166534' : '#44403c';
      ctx.font = `400 22px ${FONT}`;
      ctx.fillText(fitText(ctx, `${status} · ${t('qa.meta.votes', { n: post.votes || 0 })}`, colW), x, y);
      y += 44;
    }
  });
  ctx.fillStyle = '#44403c';
  ctx.font = `400 22px ${FONT}`;
  ctx.fillText(fitText(ctx, t('qa.board.hint'), W - 64), 32, H - 30);
}

function board3d(view) {
  let group = null;
  let face = null;
  let texture = null;
  let wallDef = null;
  let wall = null;
  const canvas = document.createElement('canvas');

  function dispose() {
    if (!group) return;
    view.scene.remove(group);
    group.traverse((o) => { o.geometry?.dispose(); o.material?.map?.dispose?.(); o.material?.dispose?.(); });
    group = null;
    face = null;
    texture = null;
  }

  function redraw() {
    if (!texture || !wallDef) return;
    drawFace(canvas, wall, localName(wallDef.names) || t('qa.hud.heading'));
    texture.needsUpdate = true;
  }

  return {
    kind: '3d',
    setWorld(world) {
      dispose();
      wallDef = world?.qa_wall || null;
      if (!wallDef) return;
      const [x, z] = wallDef.position;
      group = new THREE.Group();
      group.name = 'qa-wall';
      group.position.set(x, 0, z);
      // A plane faces +z; turned by yaw + pi it faces the wall's forward (-sin yaw, -cos yaw).
      group.rotation.y = (wallDef.yaw || 0) + Math.PI;
      const frameMat = new THREE.MeshStandardMaterial({ color: 0x9a3412, roughness: 0.8 });
      const back = new THREE.Mesh(new THREE.BoxGeometry(BOARD_W + 0.2, BOARD_H + 0.2, 0.1), frameMat);
      back.position.set(0, BOARD_Y, -0.06);
      group.add(back);
      for (const side of [-1, 1]) {
        const post = new THREE.Mesh(new THREE.BoxGeometry(0.12, BOARD_Y + BOARD_H / 2, 0.12), frameMat);
        post.position.set(side * (BOARD_W / 2 + 0.05), (BOARD_Y + BOARD_H / 2) / 2, -0.06);
        group.add(post);
      }
      drawFace(canvas, null, localName(wallDef.names) || t('qa.hud.heading'));
      texture = new THREE.CanvasTexture(canvas);
      texture.colorSpace = THREE.SRGBColorSpace;
      texture.minFilter = THREE.LinearFilter;
      texture.generateMipmaps = false;
      face = new THREE.Mesh(new THREE.PlaneGeometry(BOARD_W, BOARD_H), new THREE.MeshBasicMaterial({ map: texture }));
      face.position.set(0, BOARD_Y, 0.001);
      face.name = 'qa-wall-face';
      group.add(face);
      view.scene.add(group);
      redraw();
    },
    setWall(msg) {
      wall = { newest: msg.newest || [], top: msg.top || [] };
      redraw();
    },
    relabel: redraw,
    hit: (clientX, clientY) => Boolean(group) && hitsObject(view, group, clientX, clientY),
    /** Where the board's centre shows on screen (tests click it), or null when off screen. */
    screenPoint: () => (face ? screenPointOf(view, face) : null),
    standPoint: () => (wallDef ? landmarkStandPoint(wallDef, STAND_M) : null),
    get drawn() { return Boolean(face); },
  };
}

function board2d(view) {
  let wallDef = null;
  let last = null; // {x, y, r} on screen, for hits
  view.addOverlay?.((ctx, { sx, sy, scale }) => {
    if (!wallDef) return;
    const [x, z] = wallDef.position;
    const r = Math.max(7, scale * 1.1);
    const px = sx(x), py = sy(z);
    ctx.fillStyle = COLOR;
    ctx.fillRect(px - r * 0.45, py - r, r * 0.9, r * 2);
    ctx.fillStyle = '#ffffff';
    ctx.font = `700 ${Math.round(r * 1.1)}px ${FONT}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('?', px, py);
    ctx.textBaseline = 'alphabetic';
    ctx.fillStyle = '#7c2d12';
    ctx.font = `600 ${Math.max(11, scale * 1.2)}px ${FONT}`;
    ctx.fillText(localName(wallDef.names) || t('qa.hud.heading'), px + r * 3.2, py - r - 4);
    last = { x: px, y: py, r };
  });
  return {
    kind: '2d',
    setWorld(world) { wallDef = world?.qa_wall || null; last = null; },
    setWall() {},
    relabel() {},
    hit(clientX, clientY) {
      if (!wallDef || !last) return false;
      const rect = view.canvas.getBoundingClientRect();
      return Math.hypot(clientX - rect.left - last.x, clientY - rect.top - last.y) <= last.r * 1.6;
    },
    screenPoint() {
      if (!last) return null;
      const rect = view.canvas.getBoundingClientRect();
      return { x: rect.left + last.x, y: rect.top + last.y };
    },
    standPoint: () => (wallDef ? landmarkStandPoint(wallDef, STAND_M) : null),
    get drawn() { return Boolean(wallDef && last); },
  };
}

export function createBoard(view) {
  return view.kind === '3d' ? board3d(view) : board2d(view);
}

// The stage screen: the event's current slide (event_stage.slide, an image at
// slide.url) where everyone sees it.
//
// In 3D a screen stands at the back of the stage (world.stage: a raised rect at
// the auditorium's east end), facing the audience (west); its face is a canvas
// texture with the slide drawn into it, letterboxed, or the event's title while
// there is no slide. In the 2D map, while one attends, an overlay in the map's
// top right corner shows the slide.
//
//   const screen = createStageScreen(view);
//   screen.setWorld(world);
//   screen.show({ title, slide });     // slide: {url, page, pages, width, height} | null
//   screen.hide();                     // not attending
//   screen.state() -> {kind, drawn, url, loaded, painted}
//   screen.pixel() -> [r, g, b] | null // the middle of the drawn slide (tests)

import * as THREE from 'three';
import { t } from '../../core/i18n.js';

const W = 1600;
const H = 900;
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';
const SCREEN_W = 12; // metres
const SCREEN_GAP = 0.6; // above the stage floor
const INSET_MAX = 0.34; // of the 2D map's width

/** The slide's image, loaded once per url. */
class SlideImage {
  constructor(onLoad) {
    this.onLoad = onLoad;
    this.url = null;
    this.img = null;
    this.loaded = false;
    this.failed = false;
  }

  set(url) {
    if (url === this.url) return;
    this.url = url;
    this.loaded = false;
    this.failed = false;
    this.img = null;
    if (!url) return;
    const img = new Image();
    img.decoding = 'async';
    img.onload = () => {
      if (this.url !== url) return;
      this.img = img;
      this.loaded = true;
      this.onLoad();
    };
    img.onerror = () => {
      if (this.url !== url) return;
      this.failed = true;
      this.onLoad();
    };
    img.src = url;
  }
}

/** Draw `img` letterboxed into the rect; returns the rect it covers. */
function drawFitted(ctx, img, x, y, w, h) {
  const iw = img.naturalWidth || img.width;
  const ih = img.naturalHeight || img.height;
  const s = Math.min(w / iw, h / ih);
  const dw = iw * s, dh = ih * s;
  const dx = x + (w - dw) / 2, dy = y + (h - dh) / 2;
  ctx.drawImage(img, dx, dy, dw, dh);
  return { x: dx, y: dy, w: dw, h: dh };
}

function fit(ctx, text, max) {
  if (ctx.measureText(text).width <= max) return text;
  const chars = [...text];
  while (chars.length && ctx.measureText(`${chars.join('')}…`).width > max) chars.pop();
  return `${chars.join('')}…`;
}

function screen3d(view) {
  let mesh = null;
  let texture = null;
  let shown = null; // {title, slide}
  let painted = false;
  let drawnRect = null;
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const image = new SlideImage(() => paint());

  function paint() {
    if (!texture) return;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#0b1020';
    ctx.fillRect(0, 0, W, H);
    painted = false;
    drawnRect = null;
    if (shown && image.loaded && image.img) {
      drawnRect = drawFitted(ctx, image.img, 0, 0, W, H);
      painted = true;
    } else {
      ctx.fillStyle = '#ffffff';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.font = `700 72px ${FONT}`;
      ctx.fillText(fit(ctx, shown?.title || t('events.stage.idle'), W - 160), W / 2, H / 2 - 40);
      ctx.font = `400 40px ${FONT}`;
      ctx.fillStyle = '#cbd5e1';
      const sub = !shown ? '' : shown.slide && image.failed ? t('events.slide.failed') : t('events.stage.no_slides');
      ctx.fillText(fit(ctx, sub, W - 160), W / 2, H / 2 + 50);
    }
    texture.needsUpdate = true;
  }

  return {
    kind: '3d',
    setWorld(world) {
      if (mesh) {
        view.scene.remove(mesh);
        mesh.geometry.dispose();
        mesh.material.map?.dispose();
        mesh.material.dispose();
        mesh = null;
      }
      const st = world?.stage;
      if (!st?.rect) return;
      const [x0, z0, x1, z1] = st.rect;
      const width = Math.min(SCREEN_W, (z1 - z0) * 0.8);
      const height = (width * H) / W;
      texture = new THREE.CanvasTexture(canvas);
      texture.colorSpace = THREE.SRGBColorSpace;
      texture.minFilter = THREE.LinearFilter;
      texture.generateMipmaps = false;
      mesh = new THREE.Mesh(new THREE.PlaneGeometry(width, height), new THREE.MeshBasicMaterial({ map: texture }));
      mesh.name = 'stage-screen';
      // The audience is to the west: the plane's +z normal turned to -x.
      const east = x0 + (x1 - x0) * 0.92;
      mesh.position.set(Math.max(x0, Math.min(east, x1 - 0.3)), (st.height || 0) + SCREEN_GAP + height / 2, (z0 + z1) / 2);
      mesh.rotation.y = -Math.PI / 2;
      view.scene.add(mesh);
      paint();
    },
    show(next) {
      shown = next;
      image.set(next?.slide?.url || null);
      paint();
    },
    hide() {
      shown = null;
      image.set(null);
      paint();
    },
    relabel: () => paint(),
    state() {
      return { kind: '3d', drawn: Boolean(mesh), url: image.url, loaded: image.loaded, painted };
    },
    pixel() {
      if (!painted || !drawnRect) return null;
      const d = canvas.getContext('2d').getImageData(Math.round(drawnRect.x + drawnRect.w / 2), Math.round(drawnRect.y + drawnRect.h / 2), 1, 1).data;
      return [d[0], d[1], d[2]];
    },
  };
}

function screen2d(view) {
  let shown = null;
  let painted = false;
  let rect = null; // in CSS pixels of the view canvas
  const image = new SlideImage(() => {});
  view.addOverlay?.((ctx) => {
    painted = false;
    rect = null;
    if (!shown) return;
    const cw = view.canvas.clientWidth, ch = view.canvas.clientHeight;
    const w = Math.round(cw * INSET_MAX);
    const aspect = shown.slide?.width && shown.slide?.height ? shown.slide.height / shown.slide.width : 9 / 16;
    const h = Math.round(w * aspect);
    const x = cw - w - 12, y = 12;
    ctx.fillStyle = '#0b1020';
    ctx.fillRect(x - 4, y - 4, w + 8, h + 30);
    if (image.loaded && image.img) {
      rect = drawFitted(ctx, image.img, x, y, w, h);
      painted = true;
    } else {
      ctx.fillStyle = '#ffffff';
      ctx.font = `600 14px ${FONT}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(fit(ctx, shown.title || '', w - 16), x + w / 2, y + h / 2);
    }
    ctx.fillStyle = '#ffffff';
    ctx.font = `500 12px ${FONT}`;
    ctx.textAlign = 'start';
    ctx.textBaseline = 'alphabetic';
    const label = shown.slide ? t('events.slide.page', { page: shown.slide.page, pages: shown.slide.pages }) : t('events.stage.no_slides');
    ctx.fillText(fit(ctx, label, w), x, y + h + 18);
  });
  return {
    kind: '2d',
    setWorld() {},
    show(next) {
      shown = next;
      image.set(next?.slide?.url || null);
    },
    hide() {
      shown = null;
      image.set(null);
    },
    relabel() {},
    state() {
      return { kind: '2d', drawn: Boolean(shown), url: image.url, loaded: image.loaded, painted };
    },
    pixel() {
      if (!painted || !rect) return null;
      const dpr = globalThis.devicePixelRatio || 1;
      const ctx = view.canvas.getContext('2d');
      const d = ctx.getImageData(Math.round((rect.x + rect.w / 2) * dpr), Math.round((rect.y + rect.h / 2) * dpr), 1, 1).data;
      return [d[0], d[1], d[2]];
    },
  };
}

export function createStageScreen(view) {
  return view.kind === '3d' ? screen3d(view) : screen2d(view);
}

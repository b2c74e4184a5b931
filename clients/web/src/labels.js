// Text drawn on a canvas, used as a three.js sprite: name tags and desk signs.
//
//   const tag = makeLabel(['Alice', 'Staff'], {badge: '#8a2be2'});
//   scene.add(tag.sprite); ... tag.update(['Alicia']); tag.dispose();

import * as THREE from 'three';

const FONT = '600 28px system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Noto Sans JP", sans-serif';
const SMALL = '500 22px system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Noto Sans JP", sans-serif';
const PAD = 12;
const PX_PER_M = 110; // canvas pixels per metre of sprite

/** `text` cut to `max` pixels in the context's font, with an ellipsis when cut. */
export function fitText(ctx, text, max) {
  const s = String(text ?? '');
  if (ctx.measureText(s).width <= max) return s;
  const chars = [...s];
  let lo = 0, hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ctx.measureText(`${chars.slice(0, mid).join('')}…`).width <= max) lo = mid;
    else hi = mid - 1;
  }
  return `${chars.slice(0, lo).join('')}…`;
}

function draw(canvas, lines, style) {
  const ctx = canvas.getContext('2d');
  const fonts = lines.map((_, i) => (i === 0 ? FONT : SMALL));
  const heights = lines.map((_, i) => (i === 0 ? 34 : 28));
  ctx.font = FONT;
  let width = 0;
  lines.forEach((line, i) => { ctx.font = fonts[i]; width = Math.max(width, ctx.measureText(line).width); });
  const w = Math.ceil(width + PAD * 2);
  const h = Math.ceil(heights.reduce((a, b) => a + b, 0) + PAD * 2 - 4);
  canvas.width = w;
  canvas.height = h;
  ctx.fillStyle = style.background;
  ctx.beginPath();
  ctx.roundRect(0, 0, w, h, 10);
  ctx.fill();
  if (style.badge) {
    ctx.fillStyle = style.badge;
    ctx.fillRect(0, h - 6, w, 6);
  }
  ctx.fillStyle = style.color;
  ctx.textBaseline = 'top';
  let y = PAD;
  lines.forEach((line, i) => {
    ctx.font = fonts[i];
    ctx.fillText(line, PAD, y);
    y += heights[i];
  });
  return { w, h };
}

function textureOf(canvas) {
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  texture.minFilter = THREE.LinearFilter;
  texture.generateMipmaps = false;
  return texture;
}

/** A sprite showing `lines` (first line bold). style: {background, color, badge}. */
export function makeLabel(lines, style = {}) {
  const s = { background: 'rgba(17, 24, 39, 0.85)', color: '#ffffff', badge: null, ...style };
  const material = new THREE.SpriteMaterial({ depthWrite: false, transparent: true });
  const sprite = new THREE.Sprite(material);
  sprite.renderOrder = 10;
  const label = {
    sprite,
    // A new texture per text: GPU textures keep the size they were first given.
    update(newLines, newStyle) {
      Object.assign(s, newStyle || {});
      const canvas = document.createElement('canvas');
      const { w, h } = draw(canvas, newLines, s);
      material.map?.dispose();
      material.map = textureOf(canvas);
      material.needsUpdate = true;
      sprite.scale.set(w / PX_PER_M, h / PX_PER_M, 1);
      sprite.center.set(0.5, 0);
    },
    dispose() {
      material.map?.dispose();
      material.dispose();
    },
  };
  label.update(lines);
  return label;
}

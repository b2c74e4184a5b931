// The overview map: a small top-down drawing of the whole world in a corner of
// the view (zones, walls, the stage, desks, kiosks, landmarks, the route being
// walked, other people as dots and you as an arrow). North (-z) is up.
//
//   const map = new Minimap(canvas, { onPick: (x, z) => ... });  // a click: walk there
//   map.setWorld(world);
//   map.draw({ self: {x, z, yaw} | null, people: [{x, z, role}], route: [{x, z}] | null });
//   map.drawn   // what the last draw put on it: {desks, kiosks, practice, landmarks, stage, people, self, route}

import {
  DESK_COLOR, FEEDBACK_COLOR, KIOSK_COLOR, PRACTICE_COLOR, STAGE_COLOR, WALL_COLOR, kioskSpot, zoneColor,
} from '../../world.js';

/** CSS pixels across; the height follows the world's proportions. */
export const MAP_WIDTH = 208;
const PAD = 4;
export const ROUTE_CSS = '#c2410c';
const SELF_CSS = '#1d4ed8';
const PEOPLE_CSS = '#111827';
const BOT_CSS = '#0e7490';
const LANDMARK_CSS = '#9a3412';

const hex = (n) => `#${(n >>> 0).toString(16).padStart(6, '0').slice(-6)}`;

export class Minimap {
  constructor(canvas, { onPick } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.world = null;
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
    this.drawn = emptyCounts();
    canvas.addEventListener('click', (e) => {
      const p = this.toWorld(e.clientX, e.clientY);
      if (p && onPick) onPick(p.x, p.z);
    });
  }

  setWorld(world) {
    this.world = world;
    this.layout();
  }

  layout() {
    const w = this.world;
    if (!w) return;
    const [x0, z0, x1, z1] = w.bounds;
    const width = MAP_WIDTH;
    const height = Math.round(((z1 - z0) / (x1 - x0)) * (width - PAD * 2) + PAD * 2);
    const dpr = globalThis.devicePixelRatio || 1;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.scale = (width - PAD * 2) / (x1 - x0);
    this.ox = PAD - x0 * this.scale;
    this.oy = PAD - z0 * this.scale;
    this.cssHeight = height;
  }

  sx(x) { return this.ox + x * this.scale; }
  sy(z) { return this.oy + z * this.scale; }

  /** The world point under a click, or null outside the world. */
  toWorld(clientX, clientY) {
    if (!this.world) return null;
    const r = this.canvas.getBoundingClientRect();
    const k = r.width > 0 ? MAP_WIDTH / r.width : 1; // a narrow screen draws the map smaller
    const x = ((clientX - r.left) * k - this.ox) / this.scale, z = ((clientY - r.top) * k - this.oy) / this.scale;
    const [x0, z0, x1, z1] = this.world.bounds;
    return x < x0 || x > x1 || z < z0 || z > z1 ? null : { x, z };
  }

  draw({ self = null, people = [], route = null } = {}) {
    const { ctx, world } = this;
    const drawn = emptyCounts();
    this.drawn = drawn;
    ctx.clearRect(0, 0, MAP_WIDTH, this.cssHeight || 0);
    if (!world) return;
    const s = this.scale;
    const [bx0, bz0, bx1, bz1] = world.bounds;
    ctx.fillStyle = '#f9fafb';
    ctx.fillRect(this.sx(bx0), this.sy(bz0), (bx1 - bx0) * s, (bz1 - bz0) * s);
    for (const zone of world.zones || []) {
      const [x0, z0, x1, z1] = zone.rect;
      ctx.fillStyle = hex(zoneColor(zone));
      ctx.fillRect(this.sx(x0), this.sy(z0), (x1 - x0) * s, (z1 - z0) * s);
    }
    if (world.stage?.rect) {
      const [x0, z0, x1, z1] = world.stage.rect;
      ctx.fillStyle = hex(STAGE_COLOR);
      ctx.fillRect(this.sx(x0), this.sy(z0), (x1 - x0) * s, (z1 - z0) * s);
      drawn.stage = 1;
    }
    ctx.strokeStyle = hex(WALL_COLOR);
    ctx.lineWidth = 2;
    ctx.strokeRect(this.sx(bx0), this.sy(bz0), (bx1 - bx0) * s, (bz1 - bz0) * s);
    for (const [x0, z0, x1, z1] of world.walls || []) {
      ctx.beginPath();
      ctx.moveTo(this.sx(x0), this.sy(z0));
      ctx.lineTo(this.sx(x1), this.sy(z1));
      ctx.stroke();
    }
    const square = (x, z, r, color) => {
      ctx.fillStyle = color;
      ctx.fillRect(this.sx(x) - r, this.sy(z) - r, r * 2, r * 2);
    };
    for (const desk of world.desks || []) {
      const [x, z] = desk.position;
      const yaw = desk.yaw || 0;
      ctx.fillStyle = hex(DESK_COLOR);
      ctx.fillRect(this.sx(x - Math.sin(yaw)) - 5, this.sy(z - Math.cos(yaw)) - 2.5, 10, 5);
      const k = kioskSpot(desk);
      square(k.x, k.z, 1.5, hex(KIOSK_COLOR));
      drawn.desks += 1;
    }
    for (const kiosk of world.kiosks || []) {
      const [x, z] = kiosk.position;
      ctx.fillStyle = hex(FEEDBACK_COLOR);
      ctx.beginPath();
      ctx.moveTo(this.sx(x), this.sy(z) - 4);
      ctx.lineTo(this.sx(x) + 4, this.sy(z));
      ctx.lineTo(this.sx(x), this.sy(z) + 4);
      ctx.lineTo(this.sx(x) - 4, this.sy(z));
      ctx.closePath();
      ctx.fill();
      drawn.kiosks += 1;
    }
    for (const desk of world.practice_desks || []) {
      const [x, z] = desk.position;
      const yaw = desk.yaw || 0;
      ctx.fillStyle = hex(PRACTICE_COLOR);
      ctx.fillRect(this.sx(x - Math.sin(yaw)) - 4, this.sy(z - Math.cos(yaw)) - 2, 8, 4);
      drawn.practice += 1;
    }
    for (const key of ['qa_wall', 'greeter']) {
      const mark = world[key];
      if (!mark?.position) continue;
      square(mark.position[0], mark.position[1], 2.5, LANDMARK_CSS);
      drawn.landmarks += 1;
    }
    if (route?.length) {
      ctx.save();
      ctx.strokeStyle = ROUTE_CSS;
      ctx.lineWidth = 2.5;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      route.forEach((p, i) => (i ? ctx.lineTo(this.sx(p.x), this.sy(p.z)) : ctx.moveTo(this.sx(p.x), this.sy(p.z))));
      ctx.stroke();
      ctx.restore();
      const end = route.at(-1);
      ctx.beginPath();
      ctx.arc(this.sx(end.x), this.sy(end.z), 3.5, 0, Math.PI * 2);
      ctx.fillStyle = ROUTE_CSS;
      ctx.fill();
      drawn.route = route.length;
    }
    for (const p of people) {
      ctx.beginPath();
      ctx.arc(this.sx(p.x), this.sy(p.z), 2.5, 0, Math.PI * 2);
      ctx.fillStyle = p.role === 'bot' ? BOT_CSS : PEOPLE_CSS;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
      drawn.people += 1;
    }
    if (self) {
      // An arrow pointing the way the avatar faces: forward is (-sin yaw, -cos yaw).
      const x = this.sx(self.x), y = this.sy(self.z);
      const fx = -Math.sin(self.yaw), fy = -Math.cos(self.yaw);
      const r = 6;
      ctx.beginPath();
      ctx.moveTo(x + fx * r, y + fy * r);
      ctx.lineTo(x - fx * r * 0.6 - fy * r * 0.6, y - fy * r * 0.6 + fx * r * 0.6);
      ctx.lineTo(x - fx * r * 0.6 + fy * r * 0.6, y - fy * r * 0.6 - fx * r * 0.6);
      ctx.closePath();
      ctx.fillStyle = SELF_CSS;
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
      drawn.self = 1;
    }
  }
}

function emptyCounts() {
  return { desks: 0, kiosks: 0, practice: 0, landmarks: 0, stage: 0, people: 0, self: 0, route: 0 };
}

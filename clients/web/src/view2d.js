// The fallback view when WebGL is missing: a top-down map on a 2D canvas.
// Same interface as scene3d.js (setWorld, addAvatar, setPose, follow, pick, showRoute, ...).
// North (-z) is up, east (+x) is right.
//
// Features draw their own fixtures on top: view.addOverlay((ctx, {sx, sy, scale}) => ...)
// is called every frame after the hall and the avatars (sx, sy: world x, z to
// canvas pixels; scale: pixels per metre); it returns a function that removes it.

import { t } from './core/i18n.js';
import { extraLines } from './tags.js';
import {
  AUDIENCE_SEAT_COLOR, DESK_COLOR, FEEDBACK_COLOR, KIOSK_COLOR, PRACTICE_COLOR, SEAT_COLOR, STAGE_COLOR, WALL_COLOR,
  allSeats, deskLetters, deskName, kioskName, kioskSpot, practiceDeskName, zoneColor, zoneName,
} from './world.js';

const hex = (n) => `#${(n >>> 0).toString(16).padStart(6, '0').slice(-6)}`;
const ROLE_RING = { staff: '#0b6e4f', host: '#7b2cbf', admin: '#9d174d', manager: '#9a3412', bot: '#0e7490' };
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", sans-serif';
const EXTRA_LINE = 14; // px per line under an avatar's label (badges)

export function createView2d(canvas) {
  const ctx = canvas.getContext('2d');
  let world = null;
  let seats = []; // allSeats(world): [{x, z, yaw, audience}]
  const avatars = new Map(); // id -> {entity, isSelf, x, z, yaw}
  const speaking = new Set(); // ids whose voice is heard (setSpeaking): a green ring
  const overlays = new Set(); // features' drawings: fn(ctx, {sx, sy, scale})
  let scale = 1, ox = 0, oy = 0;

  function layout() {
    const dpr = globalThis.devicePixelRatio || 1;
    const w = canvas.clientWidth || 300, h = canvas.clientHeight || 150;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!world) return;
    const [x0, z0, x1, z1] = world.bounds;
    const pad = 16;
    scale = Math.min((w - pad * 2) / (x1 - x0), (h - pad * 2) / (z1 - z0));
    ox = (w - (x1 - x0) * scale) / 2 - x0 * scale;
    oy = (h - (z1 - z0) * scale) / 2 - z0 * scale;
  }
  new ResizeObserver(layout).observe(canvas);

  const sx = (x) => ox + x * scale;
  const sy = (z) => oy + z * scale;

  function drawWorld() {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    ctx.fillStyle = '#f3f4f6';
    ctx.fillRect(0, 0, w, h);
    if (!world) return;
    for (const zone of world.zones || []) {
      const [x0, z0, x1, z1] = zone.rect;
      ctx.fillStyle = hex(zoneColor(zone));
      ctx.fillRect(sx(x0), sy(z0), (x1 - x0) * scale, (z1 - z0) * scale);
      ctx.fillStyle = '#1f2937';
      ctx.font = `600 ${Math.max(11, scale * 2.2)}px ${FONT}`;
      ctx.textAlign = 'center';
      ctx.fillText(zoneName(zone.id), sx((x0 + x1) / 2), sy(z1) - scale * 3);
    }
    if (world.stage) {
      const [x0, z0, x1, z1] = world.stage.rect;
      ctx.fillStyle = hex(STAGE_COLOR);
      ctx.fillRect(sx(x0), sy(z0), (x1 - x0) * scale, (z1 - z0) * scale);
    }
    ctx.strokeStyle = hex(WALL_COLOR);
    ctx.lineWidth = Math.max(2, scale * 0.3);
    const [bx0, bz0, bx1, bz1] = world.bounds;
    ctx.strokeRect(sx(bx0), sy(bz0), (bx1 - bx0) * scale, (bz1 - bz0) * scale);
    for (const [x0, z0, x1, z1] of world.walls || []) {
      ctx.beginPath();
      ctx.moveTo(sx(x0), sy(z0));
      ctx.lineTo(sx(x1), sy(z1));
      ctx.stroke();
    }
    // Doors in the outer edge: the edge left open, a jamb at each side.
    for (const [x0, z0, x1, z1] of world.doors || []) {
      ctx.save();
      ctx.strokeStyle = '#f3f4f6';
      ctx.lineWidth = Math.max(3, scale * 0.5);
      ctx.beginPath();
      ctx.moveTo(sx(x0), sy(z0));
      ctx.lineTo(sx(x1), sy(z1));
      ctx.stroke();
      ctx.restore();
      const j = Math.max(4, scale * 0.6);
      ctx.fillStyle = hex(WALL_COLOR);
      for (const [x, z] of [[x0, z0], [x1, z1]]) ctx.fillRect(sx(x) - j / 2, sy(z) - j / 2, j, j);
    }
    // Seats (waiting in the hall, audience in the auditorium): a small square each.
    const seat = Math.max(2, scale * 0.45);
    for (const s of seats) {
      ctx.fillStyle = hex(s.audience ? AUDIENCE_SEAT_COLOR : SEAT_COLOR);
      ctx.fillRect(sx(s.x) - seat / 2, sy(s.z) - seat / 2, seat, seat);
    }
    for (const desk of world.desks || []) {
      const [x, z] = desk.position;
      ctx.fillStyle = hex(DESK_COLOR);
      ctx.fillRect(sx(x) - scale * 1.2, sy(z) + scale * 0.6, scale * 2.4, scale * 0.8);
      ctx.fillStyle = '#111827';
      ctx.font = `600 ${Math.max(11, scale * 1.4)}px ${FONT}`;
      ctx.textAlign = 'center';
      // Desks stand 8 m apart: show the name only when it fits, else the queue letters.
      const full = `${deskName(desk)} ${deskLetters(world, desk)}`;
      const text = ctx.measureText(full).width < scale * 7.5 ? full : deskLetters(world, desk);
      ctx.fillText(text, sx(x), sy(z) - scale * 0.4);
      // The ticket kiosk: a small green post beside the citizens' spot.
      const k = kioskSpot(desk);
      ctx.fillStyle = hex(KIOSK_COLOR);
      ctx.fillRect(sx(k.x) - scale * 0.3, sy(k.z) - scale * 0.3, scale * 0.6, scale * 0.6);
    }
    // Feedback kiosks: a purple diamond with the kiosk's name under it.
    for (const kiosk of world.kiosks || []) {
      const [x, z] = kiosk.position;
      const r = Math.max(5, scale * 0.6);
      ctx.fillStyle = hex(FEEDBACK_COLOR);
      ctx.beginPath();
      ctx.moveTo(sx(x), sy(z) - r);
      ctx.lineTo(sx(x) + r, sy(z));
      ctx.lineTo(sx(x), sy(z) + r);
      ctx.lineTo(sx(x) - r, sy(z));
      ctx.closePath();
      ctx.fill();
      ctx.fillStyle = '#3b0764';
      ctx.font = `600 ${Math.max(11, scale * 1.2)}px ${FONT}`;
      ctx.textAlign = 'center';
      ctx.fillText(kioskName(kiosk), sx(x), sy(z) + r + Math.max(12, scale * 1.4));
    }
    // Practice desks (training): a teal counter with the desk's name above it.
    for (const desk of world.practice_desks || []) {
      const [x, z] = desk.position;
      const yaw = desk.yaw || 0;
      const cx = x - Math.sin(yaw) * 1, cz = z - Math.cos(yaw) * 1;
      ctx.fillStyle = hex(PRACTICE_COLOR);
      ctx.fillRect(sx(cx) - scale * 1.0, sy(cz) - scale * 0.35, scale * 2.0, scale * 0.7);
      ctx.fillStyle = '#134e4a';
      ctx.font = `600 ${Math.max(11, scale * 1.2)}px ${FONT}`;
      ctx.textAlign = 'center';
      ctx.fillText(practiceDeskName(desk), sx(cx), sy(cz) - scale * 0.6);
    }
  }

  function drawAvatar(a) {
    const r = Math.max(6, scale * 0.5);
    const x = sx(a.x), y = sy(a.z);
    ctx.fillStyle = hex(a.entity.color ?? 0x3366cc);
    ctx.beginPath();
    if (a.entity.avatar === 'box') ctx.rect(x - r, y - r, r * 2, r * 2);
    else if (a.entity.avatar === 'tall') ctx.ellipse(x, y, r * 0.7, r * 1.2, 0, 0, Math.PI * 2);
    else ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fill();
    ctx.lineWidth = a.isSelf ? 3 : 2;
    ctx.strokeStyle = ROLE_RING[a.entity.role] ?? (a.isSelf ? '#111827' : '#ffffff');
    ctx.stroke();
    if (speaking.has(a.entity.id)) {
      ctx.beginPath();
      ctx.arc(x, y, r * 1.7, 0, Math.PI * 2);
      ctx.strokeStyle = '#16a34a';
      ctx.lineWidth = 3;
      ctx.stroke();
    }
    // Facing: forward is (-sin yaw, -cos yaw) in world axes.
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x - Math.sin(a.yaw) * r * 2, y - Math.cos(a.yaw) * r * 2);
    ctx.strokeStyle = '#111827';
    ctx.lineWidth = 2;
    ctx.stroke();
    const role = a.entity.role && a.entity.role !== 'citizen' ? ` · ${t(`role.${a.entity.role}`)}` : '';
    const label = `${a.isSelf ? `${a.entity.name} (${t('view.you')})` : a.entity.name}${role}`;
    // Under the name, the lines features add to the tag (tags.js: the badges a staff
    // member chose to show), as on the 3D name tag; the label grows upwards.
    const extras = extraLines(a.entity.id);
    const up = extras.length * EXTRA_LINE;
    ctx.textAlign = 'center';
    ctx.font = `500 11px ${FONT}`;
    const extraW = Math.max(0, ...extras.map((line) => ctx.measureText(line).width));
    ctx.font = `600 12px ${FONT}`;
    const w = Math.max(ctx.measureText(label).width, extraW) + 8;
    ctx.fillStyle = 'rgba(17, 24, 39, 0.85)';
    ctx.fillRect(x - w / 2, y - r - 20 - up, w, 16 + up);
    ctx.fillStyle = '#ffffff';
    ctx.fillText(label, x, y - r - 8 - up);
    ctx.font = `500 11px ${FONT}`;
    ctx.fillStyle = '#fde68a';
    extras.forEach((line, i) => ctx.fillText(line, x, y - r - 8 - up + EXTRA_LINE * (i + 1)));
  }

  // "Walk to" (features/orient): the route, a dashed line from the avatar with a dot at its end.
  let route = null;
  function drawRoute() {
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = '#c2410c';
    ctx.lineWidth = Math.max(3, scale * 0.3);
    ctx.setLineDash([10, 6]);
    ctx.beginPath();
    route.forEach((p, i) => (i ? ctx.lineTo(sx(p.x), sy(p.z)) : ctx.moveTo(sx(p.x), sy(p.z))));
    ctx.stroke();
    const end = route.at(-1);
    ctx.beginPath();
    ctx.arc(sx(end.x), sy(end.z), Math.max(5, scale * 0.5), 0, Math.PI * 2);
    ctx.fill();
    ctx.restore();
  }

  function draw() {
    drawWorld();
    if (route) drawRoute();
    for (const a of avatars.values()) if (!a.isSelf) drawAvatar(a);
    for (const a of avatars.values()) if (a.isSelf) drawAvatar(a);
    for (const fn of overlays) {
      ctx.save();
      fn(ctx, { sx, sy, scale });
      ctx.restore();
    }
  }

  let last = null;
  return {
    kind: '2d',
    canvas,
    setWorld(w) { world = w; seats = allSeats(w); layout(); },
    /** What the map draws of the hall (tests): seats and doors. */
    hallInfo: () => ({ seats: seats.length, audienceSeats: seats.filter((s) => s.audience).length, doors: (world?.doors || []).length }),
    addAvatar(entity, isSelf = false) {
      avatars.set(entity.id, { entity, isSelf, x: entity.x, z: entity.z, yaw: entity.yaw });
    },
    removeAvatar(id) { avatars.delete(id); },
    clearAvatars() { avatars.clear(); },
    setPose(id, x, z, yaw) {
      const a = avatars.get(id);
      if (a) { a.x = x; a.z = z; a.yaw = yaw; }
    },
    follow() {},
    pick(clientX, clientY) {
      if (!world) return null;
      const r = canvas.getBoundingClientRect();
      const x = (clientX - r.left - ox) / scale, z = (clientY - r.top - oy) / scale;
      const [x0, z0, x1, z1] = world.bounds;
      return x < x0 || x > x1 || z < z0 || z > z1 ? null : { x, z };
    },
    relabel() {},
    setSelfVisible() {},
    setSpeaking(id, on) { if (on) speaking.add(id); else speaking.delete(id); },
    avatarCount: () => avatars.size,
    avatarStats: () => ({ count: avatars.size, speaking: [...speaking].filter((id) => avatars.has(id)) }),
    addOverlay(fn) { overlays.add(fn); return () => overlays.delete(fn); },
    showRoute(points) { route = points?.length > 1 ? points.map((p) => ({ x: p.x, z: p.z })) : null; },
    routeShown: () => route !== null,
    start(onFrame) {
      const loop = () => {
        const nowS = performance.now() / 1000;
        const dt = last === null ? 0 : Math.min(0.1, nowS - last);
        last = nowS;
        onFrame(nowS, dt);
        draw();
        requestAnimationFrame(loop);
      };
      layout();
      requestAnimationFrame(loop);
    },
  };
}

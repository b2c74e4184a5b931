// "Describe surroundings": the landmarks of the world, where each lies from the
// avatar (distance and a direction relative to its facing), and the sentence a
// screen reader speaks. Pure: no DOM, no app; node can import it.
//
//   landmarks(world)                       -> [{kind, id, names | key, x, z, rect?, desk?}]
//   bearing({x, z, yaw}, {x, z})           -> {m, dir, clock}   (dir: 'ahead', 'ahead_right', ...)
//   surroundings(world, me, people, queue) -> {zone, desk, others, near, bots}  (facts, no words)
//   sentence(facts, world)                 -> the words, in the current language
//
// Directions: yaw 0 faces -z; forward is (-sin yaw, -cos yaw), right is (cos yaw, -sin yaw)
// (movement.js). `dir` is one of eight sectors; `clock` is the hour on a clock face
// with 12 straight ahead.

import { localName, t } from '../../core/i18n.js';
import { deskName, kioskName, practiceDeskName, servicesOf, zoneAt, zoneName } from '../../world.js';

export const DIRECTIONS = ['ahead', 'ahead_right', 'right', 'behind_right', 'behind', 'behind_left', 'left', 'ahead_left'];
/** People within this many metres are "near you". */
export const NEAR_M = 5;
/** Closer than this, a landmark is "right next to you" (no direction). */
const BESIDE_M = 1.5;
/** How many landmarks besides the nearest desk the sentence names. */
const OTHERS = 2;

/** The spot `m` metres ahead of something at `position` facing `yaw`. */
function front([x, z], yaw = 0, m = 1) {
  return { x: x - Math.sin(yaw) * m, z: z - Math.cos(yaw) * m };
}

/**
 * Every landmark of the world with the point distances are measured to: a desk's
 * counter (1 m in front of the staff spot), a kiosk, the Q&A wall, the greeter, the
 * stage (its rect: the nearest edge counts) and the entrance (the spawn point).
 */
export function landmarks(world) {
  const out = [];
  if (!world) return out;
  for (const desk of world.desks || []) out.push({ kind: 'desk', id: desk.id, desk, ...front(desk.position, desk.yaw) });
  for (const kiosk of world.kiosks || []) {
    out.push({ kind: 'kiosk', id: kiosk.id, kiosk, x: kiosk.position[0], z: kiosk.position[1] });
  }
  for (const desk of world.practice_desks || []) {
    out.push({ kind: 'practice', id: desk.id, desk, ...front(desk.position, desk.yaw) });
  }
  for (const key of ['qa_wall', 'greeter']) {
    const mark = world[key];
    if (mark?.position) out.push({ kind: 'landmark', id: key, names: mark.names, x: mark.position[0], z: mark.position[1] });
  }
  if (world.stage?.rect) {
    const [x0, z0, x1, z1] = world.stage.rect;
    out.push({ kind: 'stage', id: 'stage', rect: world.stage.rect, x: (x0 + x1) / 2, z: (z0 + z1) / 2 });
  }
  if (world.spawn) out.push({ kind: 'entrance', id: 'entrance', x: world.spawn[0], z: world.spawn[1] });
  return out;
}

/** The point of a landmark nearest to (x, z): its own point, or the nearest point of its rect. */
export function nearestPoint(mark, x, z) {
  if (!mark.rect) return { x: mark.x, z: mark.z };
  const [x0, z0, x1, z1] = mark.rect;
  return { x: Math.min(Math.max(x, x0), x1), z: Math.min(Math.max(z, z0), z1) };
}

/** Where `to` lies from someone at `from` ({x, z, yaw}): whole metres, sector, clock hour. */
export function bearing(from, to) {
  const dx = to.x - from.x, dz = to.z - from.z;
  const s = Math.sin(from.yaw || 0), c = Math.cos(from.yaw || 0);
  const ahead = -s * dx - c * dz;
  const right = c * dx - s * dz;
  const d = Math.hypot(dx, dz);
  const angle = Math.atan2(right, ahead); // 0 ahead, +pi/2 right, -pi/2 left
  const turn = (angle + Math.PI * 2) % (Math.PI * 2);
  const dir = DIRECTIONS[Math.round(turn / (Math.PI / 4)) % 8];
  const clock = Math.round(turn / (Math.PI / 6)) % 12 || 12;
  return { d, m: Math.max(1, Math.round(d)), dir, clock, beside: d < BESIDE_M };
}

/**
 * What surrounds `me` ({x, z, yaw}): the zone, the nearest desk (with its queue when
 * known), the next nearest other landmarks, and how many people are near.
 *
 * people: [{x, z, role}] (the others in view); queue: {waiting: Map(desk id -> n) | null,
 * ticket: {ticket, service, position, status} | null, board: Map(desk id -> {staffed, serving})
 * | null} — only what the page was told.
 */
export function surroundings(world, me, people = [], queue = {}) {
  const marks = landmarks(world).map((mark) => {
    const p = nearestPoint(mark, me.x, me.z);
    return { mark, ...bearing(me, p) };
  }).sort((a, b) => a.d - b.d);
  const desk = marks.find((m) => m.mark.kind === 'desk') ?? null;
  const others = marks.filter((m) => m !== desk).slice(0, OTHERS);
  let near = 0, bots = 0;
  for (const p of people) {
    if (Math.hypot(p.x - me.x, p.z - me.z) > NEAR_M) continue;
    if (p.role === 'bot') bots += 1;
    else near += 1;
  }
  let deskQueue = null;
  if (desk) {
    const waiting = queue.waiting?.get(desk.mark.id);
    const tk = queue.ticket;
    const serves = Boolean(tk) && servicesOf(world, desk.mark.desk).some((s) => s.id === tk.service);
    const shown = queue.board?.get(desk.mark.id);
    deskQueue = {
      open: typeof shown?.staffed === 'boolean' ? shown.staffed : null,
      serving: shown?.serving ?? null,
      waiting: typeof waiting === 'number' ? waiting : null,
      ticket: serves && tk.status === 'waiting' ? { ticket: tk.ticket, ahead: Math.max(0, (tk.position || 1) - 1) } : null,
    };
  }
  return { zone: zoneAt(world, me.x, me.z), desk: desk && { ...desk, queue: deskQueue }, others, near, bots };
}

/** A landmark's name in the current language. */
export function landmarkName(mark) {
  switch (mark.kind) {
    case 'desk': return t('orient.desk_name', { name: deskName(mark.desk) });
    case 'kiosk': return kioskName(mark.kiosk);
    case 'practice': return practiceDeskName(mark.desk);
    case 'stage': return t('places.stage');
    case 'entrance': return t('places.entrance');
    default: return localName(mark.names) || mark.id;
  }
}

/** "6 metres ahead", or "right next to you". */
export function whereText(b) {
  return b.beside ? t('orient.beside') : t('orient.where', { m: b.m, dir: b.dir });
}

/** The description, as sentences in the current language. */
export function sentence(facts) {
  const parts = [t('orient.zone', { zone: zoneName(facts.zone) })];
  if (facts.desk) {
    parts.push(t('orient.nearest_desk', { name: deskName(facts.desk.mark.desk), where: whereText(facts.desk) }));
    const q = facts.desk.queue;
    if (q?.open !== null && q?.open !== undefined) parts.push(t(q.open ? 'orient.desk_open' : 'orient.desk_closed'));
    if (q?.serving) parts.push(t('orient.desk_serving', { ticket: q.serving }));
    if (q?.waiting !== null && q?.waiting !== undefined) parts.push(t('orient.waiting', { n: q.waiting }));
    if (q?.ticket) parts.push(t('orient.your_ticket', { ticket: q.ticket.ticket, ahead: q.ticket.ahead }));
  }
  for (const o of facts.others) parts.push(t('orient.landmark', { name: landmarkName(o.mark), where: whereText(o) }));
  parts.push(t('orient.people', { n: facts.near }));
  if (facts.bots) parts.push(t('orient.bots', { n: facts.bots }));
  return parts.join(' ');
}

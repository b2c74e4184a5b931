// The world layout from the welcome message, as the page needs it: colours,
// which zone a point is in, desk labels, and places to walk to. No drawing here
// (scene3d.js and view2d.js draw it).
//
// world = {name, bounds:[minx,minz,maxx,maxz], spawn:[x,z],
//          zones:[{id,kind,rect}], walls:[[x0,z0,x1,z1]...],
//          stage:{zone,rect,height}, services:[{id,letter,name:{en,...}}],
//          desks:[{id,name,services,position:[x,z],yaw}]}

import { localName, t } from './i18n.js';

/** Floor tints by zone kind (light, so dark labels on them stay readable). */
export const ZONE_COLORS = {
  entrance: 0xe9dfcc,
  service: 0xd3e3f0,
  event: 0xe0d7ec,
};
export const DEFAULT_ZONE_COLOR = 0xe4e4e4;
export const WALL_COLOR = 0x6b7280;
export const DESK_COLOR = 0x8b5e3c;
export const STAGE_COLOR = 0x3f4660;
export const FLOOR_COLOR = 0xf2f2ef;

export function zoneColor(zone) {
  return ZONE_COLORS[zone.kind] ?? DEFAULT_ZONE_COLOR;
}

const inRect = ([x0, z0, x1, z1], x, z) => x >= x0 && x <= x1 && z >= z0 && z <= z1;

/** The id of the zone containing (x, z), or null. */
export function zoneAt(world, x, z) {
  return world?.zones?.find((zone) => inRect(zone.rect, x, z))?.id ?? null;
}

/** A zone's name in the current language (falls back to its id). */
export function zoneName(id) {
  if (!id) return t('zone.none');
  const key = `zone.${id}`;
  const s = t(key);
  return s === key ? id : s;
}

/** Height of the floor at (x, z): the stage is raised. */
export function floorHeight(world, x, z) {
  const st = world?.stage;
  return st && inRect(st.rect, x, z) ? st.height || 0 : 0;
}

function servicesOf(world, desk) {
  const byId = new Map((world.services || []).map((s) => [s.id, s]));
  return (desk.services || []).map((id) => byId.get(id)).filter(Boolean);
}

/** "A, B" — the queue letters a desk serves. */
export function deskLetters(world, desk) {
  return servicesOf(world, desk).map((s) => s.letter).join(', ');
}

/** Service names of a desk in the current language, "A General enquiries / B ...". */
export function deskServices(world, desk) {
  return servicesOf(world, desk).map((s) => `${s.letter} ${localName(s.name)}`).join(' / ');
}

/** Lines for a desk's sign: name, then one line per service. */
export function deskSign(world, desk) {
  return [desk.name, ...servicesOf(world, desk).map((s) => `${s.letter} · ${localName(s.name)}`)];
}

/**
 * Places a person may want to walk to, with labels in the current language:
 * [{id, label, x, z}]. Citizens are served 2 m in front of a desk.
 */
export function places(world) {
  const out = [];
  if (world.spawn) out.push({ id: 'entrance', label: t('places.entrance'), x: world.spawn[0], z: world.spawn[1] });
  for (const desk of world.desks || []) {
    const [x, z] = desk.position;
    const yaw = desk.yaw || 0;
    // The desk faces along its yaw; its front is 2 m ahead of the staff spot.
    out.push({
      id: desk.id,
      label: t('places.desk', { name: desk.name, services: deskServices(world, desk) }),
      x: x - Math.sin(yaw) * 2,
      z: z - Math.cos(yaw) * 2,
    });
  }
  if (world.stage) {
    const [x0, z0, , z1] = world.stage.rect;
    out.push({ id: 'stage', label: t('places.stage'), x: x0 - 3, z: (z0 + z1) / 2 });
  }
  return out;
}

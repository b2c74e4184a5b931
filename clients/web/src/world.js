// The world layout from the welcome message, as the page needs it: colours,
// which zone a point is in, desk labels, and places to walk to. No drawing here
// (scene3d.js and view2d.js draw it).
//
// world = {name, bounds:[minx,minz,maxx,maxz], spawn:[x,z],
//          zones:[{id,kind,rect}], walls:[[x0,z0,x1,z1]...],
//          stage:{zone,rect,height}, services:[{id,letter,name:{en,...}}],
//          desks:[{id,name,names:{en,...},services,position:[x,z],yaw}],
//          kiosks:[{id,position:[x,z],names:{en,...}}],   (feedback kiosks)
//          practice_desks:[{id,position:[x,z],yaw,names:{en,...}}],   (training)
//          qa_wall:{position:[x,z],yaw,names}, greeter:{position:[x,z],yaw,names},   (landmarks)
//          seats:[{position:[x,z],yaw,count,spacing,rows,row_spacing}],   (blocks of seats)
//          doors:[[x0,z0,x1,z1]...],   (openings in the outer edge, along the bounds)
//          timezone:'Europe/Stockholm',
//          languages:['sv', ...]}   (languages one can be served in)

import { has, localName, t } from './core/i18n.js';

/** Floor tints by zone kind (light, so dark labels on them stay readable). */
export const ZONE_COLORS = {
  entrance: 0xe9dfcc,
  training: 0xd5ece6,
  service: 0xd3e3f0,
  event: 0xe0d7ec,
};
export const DEFAULT_ZONE_COLOR = 0xe4e4e4;
export const WALL_COLOR = 0x6b7280;
export const DESK_COLOR = 0x8b5e3c;
export const KIOSK_COLOR = 0x0b6e4f;
/** Feedback kiosks (world.kiosks): purple, unlike the green ticket kiosks of the desks. */
export const FEEDBACK_COLOR = 0x6d28d9;
/** Practice desks (world.practice_desks, the training zone): teal, unlike the service desks. */
export const PRACTICE_COLOR = 0x0f766e;
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
  return has(key) ? t(key) : id;
}

/** Height of the floor at (x, z): the stage is raised. */
export function floorHeight(world, x, z) {
  const st = world?.stage;
  return st && inRect(st.rect, x, z) ? st.height || 0 : 0;
}

export function servicesOf(world, desk) {
  const byId = new Map((world.services || []).map((s) => [s.id, s]));
  return (desk.services || []).map((id) => byId.get(id)).filter(Boolean);
}

/** A desk's name in the current language (its `names`, else `name`). */
export function deskName(desk) {
  return (desk && (localName(desk.names) || desk.name)) || '';
}

/** The desk with this id, or undefined. */
export function deskById(world, id) {
  return (world?.desks || []).find((d) => d.id === id);
}

/** The service with this id, or undefined. */
export function serviceById(world, id) {
  return (world?.services || []).find((s) => s.id === id);
}

/** "B Address and registration" (or the id if the world does not know it). */
export function serviceLabel(world, id) {
  const s = serviceById(world, id);
  return s ? `${s.letter} ${localName(s.name)}` : id;
}

// A desk faces along its yaw: forward is (-sin yaw, -cos yaw), right is (cos yaw, -sin yaw).
function ahead(desk, forwardM, rightM = 0) {
  const [x, z] = desk.position;
  const yaw = desk.yaw || 0;
  const s = Math.sin(yaw), c = Math.cos(yaw);
  return { x: x - s * forwardM + c * rightM, z: z - c * forwardM - s * rightM };
}

/** Where citizens are served: 2 m in front of the staff spot (server: SERVED_OFFSET_M). */
export function servePoint(desk) {
  return ahead(desk, 2);
}

/** Where the desk's ticket kiosk stands: beside the citizens' spot, clear of the counter. */
export function kioskSpot(desk) {
  return ahead(desk, 2.4, 1.9);
}

/** A feedback kiosk's name in the current language. */
export function kioskName(kiosk) {
  return (kiosk && (localName(kiosk.names) || kiosk.id)) || '';
}

/** Where a person stands to use a feedback kiosk: 1.5 m south of it. */
export function kioskStandPoint(kiosk) {
  const [x, z] = kiosk.position;
  return { x, z: z + 1.5 };
}

/** A practice desk's name in the current language. */
export function practiceDeskName(desk) {
  return (desk && (localName(desk.names) || desk.id)) || '';
}

/** The practice desk with this id, or undefined. */
export function practiceDeskById(world, id) {
  return (world?.practice_desks || []).find((d) => d.id === id);
}

/** Where a person stands at a landmark (the Q&A wall, the greeter): `m` metres in front of it. */
export function landmarkStandPoint(mark, m = 2.5) {
  return ahead(mark, m);
}

/** Seat colours: waiting seats in the hall, audience seats in an event zone. */
export const SEAT_COLOR = 0x1d4ed8;
export const AUDIENCE_SEAT_COLOR = 0x9f1239;

/**
 * Every seat of a block (world.seats[i]) as {x, z, yaw}: `count` side by side
 * `spacing` apart around `position`, then `rows` rows `row_spacing` behind each
 * other (the same places as server/world.py SeatRow.seats).
 */
export function seatPositions(row) {
  const [x, z] = row.position;
  const yaw = row.yaw || 0;
  const s = Math.sin(yaw), c = Math.cos(yaw);
  const count = row.count || 0, rows = row.rows || 1;
  const out = [];
  for (let r = 0; r < rows; r++) {
    const back = r * (row.row_spacing || 1);
    for (let i = 0; i < count; i++) {
      const side = (i - (count - 1) / 2) * (row.spacing || 1);
      out.push({ x: x + s * back + c * side, z: z + c * back - s * side, yaw });
    }
  }
  return out;
}

/** All seats of the world, with whether each stands in an event zone (audience). */
export function allSeats(world) {
  const out = [];
  for (const row of world?.seats || []) {
    for (const seat of seatPositions(row)) {
      const zone = world.zones?.find((z) => inRect(z.rect, seat.x, seat.z));
      out.push({ ...seat, audience: zone?.kind === 'event' });
    }
  }
  return out;
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
  return [deskName(desk), ...servicesOf(world, desk).map((s) => `${s.letter} · ${localName(s.name)}`)];
}

/**
 * Places a person may want to walk to, with labels in the current language:
 * [{id, label, x, z}]. Citizens are served 2 m in front of a desk.
 */
export function places(world) {
  const out = [];
  if (world.spawn) out.push({ id: 'entrance', label: t('places.entrance'), x: world.spawn[0], z: world.spawn[1] });
  for (const desk of world.desks || []) {
    const { x, z } = servePoint(desk);
    out.push({
      id: desk.id,
      desk: desk.id,
      label: t('places.desk', { name: deskName(desk), services: deskServices(world, desk) }),
      x,
      z,
    });
  }
  for (const kiosk of world.kiosks || []) {
    const { x, z } = kioskStandPoint(kiosk);
    out.push({ id: kiosk.id, kiosk: kiosk.id, label: t('places.kiosk', { name: kioskName(kiosk) }), x, z });
  }
  // Practice desks: one walks to the staff spot behind the desk (training is for staff).
  for (const desk of world.practice_desks || []) {
    const [x, z] = desk.position;
    out.push({ id: desk.id, practice: desk.id, label: t('places.practice', { name: practiceDeskName(desk) }), x, z });
  }
  // Landmarks (the Q&A wall, the greeter at the entrance): one walks to the spot in front.
  for (const key of ['qa_wall', 'greeter']) {
    const mark = world[key];
    if (!mark?.position) continue;
    const { x, z } = landmarkStandPoint(mark);
    out.push({ id: key.replace('_', '-'), landmark: key, label: localName(mark.names) || key, x, z });
  }
  if (world.stage) {
    const [x0, z0, , z1] = world.stage.rect;
    out.push({ id: 'stage', label: t('places.stage'), x: x0 - 3, z: (z0 + z1) / 2 });
  }
  return out;
}

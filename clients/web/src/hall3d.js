// The hall in 3D, built from the world map (world.js): floors with the zones
// told apart, walls with doorways, desks, kiosks, the stage and seats.
//
//   const hall = buildHall(group, world, {addLabel, focus});
//   hall.info() -> {objects, walls, doorways, seats, meshes, ...}   (tests)
//   hall.hitsWall(x0, z0, x1, z1, y) -> bool   (a ray along the floor at height y)
//   fitSun(sun, world)   // the sun's shadow camera fitted to the world's bounds
//
// Draw calls: the static hall is merged by material into a few meshes, each made
// of boxes and quads with vertex colours: the floor (receives shadows), the
// solids (desks, kiosks, stage, steps, screen stand), the walls, the glass of the
// inner walls, and one InstancedMesh for every seat. Text labels (zones,
// kiosks, practice desks) are sprites of their own (labels.js).
//
// The camera is third person, behind and above the avatar, so walls would stand
// in the way: the wall material cuts away (dithered) every fragment near the
// line from the camera to the avatar's head, so the avatar and what it faces
// are always seen; shadows are cast by the whole wall. Inner walls are glass
// above a solid dado, so the auditorium's stage and screen are seen from the
// lobby and the hall. Live signs, boards and the stage screen are the
// features' own (features/desks/board.js, features/qa/board.js,
// features/events/board.js, features/events/stage.js); the hall draws the stand
// the stage screen hangs on.

import * as THREE from 'three';
import {
  AUDIENCE_SEAT_COLOR, DESK_COLOR, FEEDBACK_COLOR, FLOOR_COLOR, KIOSK_COLOR, PRACTICE_COLOR, SEAT_COLOR, STAGE_COLOR,
  WALL_COLOR, allSeats, deskLetters, floorHeight, kioskName, kioskSpot, practiceDeskName, zoneColor, zoneName,
} from './world.js';
import { t } from './core/i18n.js';
import { GeometryBuilder as Builder } from './geometry.js';

export const OUTER_HEIGHT = 3.6; // metres
export const INNER_HEIGHT = 3.3;
const DADO = 1.0; // the solid lower part of an inner wall; glass above it
const RAIL = 0.25; // the top rail of an inner wall
const THICK = 0.3;
const MULLION_EVERY = 2.5;
const DOOR_HEIGHT = 2.7; // the lintel over a door in the outer edge
const INLAY = 0.45; // a zone's border band, metres
const GRID = 2; // floor tile size, metres
const CUT_RADIUS = 1.8; // the cut-away around the camera-to-avatar line, metres
const STEP_RISE = 0.2;
const STEP_TREAD = 0.32;
// The stage screen of features/events/stage.js: 12 m wide at most, 16:9, 0.6 m above the stage.
const SCREEN_W = 12;
const SCREEN_ASPECT = 9 / 16;
const SCREEN_GAP = 0.6;

const PLASTER = 0xe7e2d8; // the outer walls
const SKIRT = 0x4b5563;
const JAMB = 0x374151;
const DADO_COLOR = 0x94a3b8;
const GLASS_COLOR = 0xbfdbfe;
const OUTSIDE = 0xb9c2b0; // the ground outside the building
const COUNTER_TOP = 0xe5d3b3;
const DARK = 0x1f2937;
const BACKDROP = 0x1e2540;
const NOSING = 0xfacc15; // the stage's front edge and step nosings: amber, seen against the dark stage

const tmpColor = new THREE.Color();
const tmpV = new THREE.Vector3();
const ONE = new THREE.Vector3(1, 1, 1);


const shade = (hex, k) => tmpColor.set(hex).multiplyScalar(k).getHex();

/** [x0, z0, x1, z1] minus each of `cuts`: the pieces left (rectangles that do not overlap). */
function subtract(rect, cuts) {
  let pieces = [rect];
  for (const [cx0, cz0, cx1, cz1] of cuts) {
    const next = [];
    for (const [x0, z0, x1, z1] of pieces) {
      if (cx0 >= x1 || cx1 <= x0 || cz0 >= z1 || cz1 <= z0) { next.push([x0, z0, x1, z1]); continue; }
      if (z0 < cz0) next.push([x0, z0, x1, cz0]);
      if (cz1 < z1) next.push([x0, cz1, x1, z1]);
      const mz0 = Math.max(z0, cz0), mz1 = Math.min(z1, cz1);
      if (x0 < cx0) next.push([x0, mz0, cx0, mz1]);
      if (cx1 < x1) next.push([cx1, mz0, x1, mz1]);
    }
    pieces = next;
  }
  return pieces;
}

/**
 * The wall material: lit, vertex-coloured, and cut away (dithered, so no
 * transparency sorting) within CUT_RADIUS of the segment from the camera to the
 * avatar's head. `cut` holds the uniforms, set before each frame.
 */
function wallMaterial(cut) {
  const m = new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.9 });
  m.onBeforeCompile = (shader) => {
    Object.assign(shader.uniforms, cut);
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', '#include <common>\nvarying vec3 vCutWorld;')
      .replace('#include <begin_vertex>', '#include <begin_vertex>\nvCutWorld = (modelMatrix * vec4(transformed, 1.0)).xyz;');
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', `#include <common>
varying vec3 vCutWorld;
uniform vec3 uCutFrom;
uniform vec3 uCutTo;
uniform float uCutOn;`)
      .replace('#include <clipping_planes_fragment>', `#include <clipping_planes_fragment>
if (uCutOn > 0.5) {
  vec3 ab = uCutTo - uCutFrom;
  float k = clamp(dot(vCutWorld - uCutFrom, ab) / max(dot(ab, ab), 1e-4), 0.0, 1.0);
  float d = length(vCutWorld - (uCutFrom + ab * k));
  float keep = smoothstep(${(CUT_RADIUS * 0.6).toFixed(2)}, ${CUT_RADIUS.toFixed(2)}, d);
  float noise = fract(52.9829189 * fract(dot(gl_FragCoord.xy, vec2(0.06711056, 0.00583715))));
  if (k < 0.98 && noise > keep) discard;
}`);
  };
  m.customProgramCacheKey = () => 'hall-wall-cutaway';
  return m;
}

/** Segments' ends that touch nothing (no other wall, not the outer edge): the sides of doorways. */
function freeEnds(segments, bounds) {
  const [bx0, bz0, bx1, bz1] = bounds;
  const eps = 0.05;
  const onEdge = (x, z) => Math.abs(x - bx0) < eps || Math.abs(x - bx1) < eps || Math.abs(z - bz0) < eps || Math.abs(z - bz1) < eps;
  const onSegment = (x, z, [x0, z0, x1, z1]) => {
    const dx = x1 - x0, dz = z1 - z0;
    const k = Math.max(0, Math.min(1, ((x - x0) * dx + (z - z0) * dz) / (dx * dx + dz * dz || 1)));
    return Math.hypot(x - (x0 + dx * k), z - (z0 + dz * k)) < eps;
  };
  const out = [];
  segments.forEach((seg, i) => {
    for (const [x, z] of [[seg[0], seg[1]], [seg[2], seg[3]]]) {
      if (onEdge(x, z)) continue;
      if (segments.some((other, j) => j !== i && onSegment(x, z, other))) continue;
      out.push({ x, z, wall: i });
    }
  });
  return out;
}

/** Doorways between the free ends of collinear walls: the nearest pairs facing each other, up to 20 m. */
function doorwaysOf(segments, ends) {
  const used = new Set();
  const out = [];
  ends.forEach((a, i) => {
    if (used.has(i)) return;
    let best = null;
    ends.forEach((b, j) => {
      if (j === i || used.has(j) || b.wall === a.wall) return;
      const d = Math.hypot(b.x - a.x, b.z - a.z);
      const [x0, z0, x1, z1] = segments[a.wall];
      const len = Math.hypot(x1 - x0, z1 - z0) || 1;
      const cross = Math.abs(((x1 - x0) * (b.z - a.z) - (z1 - z0) * (b.x - a.x)) / len);
      if (d < 20 && cross < 0.05 && (!best || d < best.d)) best = { j, d };
    });
    if (!best) return;
    used.add(i);
    used.add(best.j);
    const b = ends[best.j];
    out.push({ x0: a.x, z0: a.z, x1: b.x, z1: b.z, width: best.d });
  });
  return out;
}

/** The outer edge as segments, with the world's doors left open. */
function outerSegments(world) {
  const [minX, minZ, maxX, maxZ] = world.bounds;
  const sides = [[minX, minZ, maxX, minZ], [maxX, minZ, maxX, maxZ], [maxX, maxZ, minX, maxZ], [minX, maxZ, minX, minZ]];
  const out = [];
  for (const [x0, z0, x1, z1] of sides) {
    const len = Math.hypot(x1 - x0, z1 - z0);
    const ux = (x1 - x0) / len, uz = (z1 - z0) / len;
    // Openings on this side, as [from, to] distances along it.
    const gaps = [];
    for (const [dx0, dz0, dx1, dz1] of world.doors || []) {
      const on = (x, z) => Math.abs((x - x0) * uz - (z - z0) * ux) < 0.05;
      if (!on(dx0, dz0) || !on(dx1, dz1)) continue;
      const a = (dx0 - x0) * ux + (dz0 - z0) * uz, b = (dx1 - x0) * ux + (dz1 - z0) * uz;
      gaps.push([Math.max(0, Math.min(a, b)), Math.min(len, Math.max(a, b))]);
    }
    gaps.sort((p, q) => p[0] - q[0]);
    let at = 0;
    for (const [a, b] of gaps) {
      if (a > at) out.push([x0 + ux * at, z0 + uz * at, x0 + ux * a, z0 + uz * a]);
      at = Math.max(at, b);
    }
    if (at < len) out.push([x0 + ux * at, z0 + uz * at, x1, z1]);
  }
  return out;
}

/** Fit the sun's shadow camera around the world (bounds, up to the stage screen's top). */
export function fitSun(sun, world) {
  const [minX, minZ, maxX, maxZ] = world.bounds;
  const cx = (minX + maxX) / 2, cz = (minZ + maxZ) / 2;
  const dir = new THREE.Vector3(-0.45, 0.8, 0.4).normalize(); // from the south-west, high: daylight
  const reach = Math.hypot(maxX - minX, maxZ - minZ);
  sun.position.set(cx + dir.x * reach, dir.y * reach, cz + dir.z * reach);
  sun.target.position.set(cx, 0, cz);
  sun.target.updateMatrixWorld();
  sun.updateMatrixWorld();
  const view = new THREE.Matrix4().lookAt(sun.position, sun.target.position, new THREE.Vector3(0, 1, 0));
  view.setPosition(sun.position);
  view.invert();
  const box = new THREE.Box3();
  for (const x of [minX, maxX]) for (const z of [minZ, maxZ]) for (const y of [0, 10]) box.expandByPoint(new THREE.Vector3(x, y, z).applyMatrix4(view));
  const cam = sun.shadow.camera;
  cam.left = box.min.x - 1;
  cam.right = box.max.x + 1;
  cam.bottom = box.min.y - 1;
  cam.top = box.max.y + 1;
  cam.near = Math.max(0.1, -box.max.z - 5);
  cam.far = -box.min.z + 5;
  cam.updateProjectionMatrix();
  sun.shadow.bias = -0.0005;
  sun.shadow.normalBias = 0.03;
  sun.shadow.radius = 3; // PCF over a disc of three texels: soft edges
  sun.shadow.needsUpdate = true;
}

/**
 * Build the hall of `world` into `group`. options.addLabel(lines, pos, style)
 * adds a text sprite; options.focus() -> {x, z} | null is the avatar the
 * camera follows (null: no cut-away, e.g. in VR).
 */
export function buildHall(group, world, { addLabel = () => {}, focus = () => null } = {}) {
  const [minX, minZ, maxX, maxZ] = world.bounds;
  const floor = new Builder();
  const solid = new Builder();
  const walls = new Builder();
  const glass = new Builder();
  const objects = []; // {kind, id, x, z}: what the hall has, for tests and descriptions

  // -- the floor: the ground outside, then each zone where it is the zone (the first zone holding a
  //    point wins), with a tile grid and a darker border band. Nothing overlaps, so nothing
  //    flickers from afar: the tiles lie at 0, the grid lines and bands 1.5 cm above.
  const OUT = 12;
  for (const r of subtract([minX - OUT, minZ - OUT, maxX + OUT, maxZ + OUT], [world.bounds])) floor.quad(...r, -0.01, OUTSIDE);
  const zones = world.zones || [];
  const LINE_Y = 0.015;
  const clipped = (rect, cuts, y, color) => { for (const r of subtract(rect, cuts)) floor.quad(...r, y, color); };
  for (const r of subtract(world.bounds, zones.map((z) => z.rect))) floor.quad(...r, 0, FLOOR_COLOR);
  zones.forEach((zone, i) => {
    const [x0, z0, x1, z1] = zone.rect;
    const above = zones.slice(0, i).map((z) => z.rect);
    const base = zoneColor(zone);
    clipped(zone.rect, above, 0, base);
    const line = shade(base, 0.9);
    const ix0 = x0 + INLAY, iz0 = z0 + INLAY, ix1 = x1 - INLAY, iz1 = z1 - INLAY;
    for (let x = x0 + GRID; x < ix1 - 0.01; x += GRID) clipped([x - 0.025, iz0, x + 0.025, iz1], above, LINE_Y, line);
    for (let z = z0 + GRID; z < iz1 - 0.01; z += GRID) clipped([ix0, z - 0.025, ix1, z + 0.025], above, LINE_Y, line);
    const band = shade(base, 0.68);
    for (const r of [[x0, z0, x1, iz0], [x0, iz1, x1, z1], [x0, iz0, ix0, iz1], [ix1, iz0, x1, iz1]]) clipped(r, above, LINE_Y, band);
    objects.push({ kind: 'zone', id: zone.id, x: (x0 + x1) / 2, z: (z0 + z1) / 2 });
    addLabel(() => [zoneName(zone.id)], new THREE.Vector3((x0 + x1) / 2, 6, (z0 + z1) / 2 + (z1 - z0) * 0.35),
      { background: 'rgba(255, 255, 255, 0.9)', color: '#111827' });
  });

  // -- the outer edge: plaster walls with a skirting, open where the world has doors (with a lintel above).
  const outer = outerSegments(world);
  const built = []; // {kind, x0, z0, x1, z1, height}
  for (const [x0, z0, x1, z1] of outer) {
    walls.segment(x0, z0, x1, z1, 0, OUTER_HEIGHT, THICK, PLASTER);
    walls.segment(x0, z0, x1, z1, 0, 0.15, THICK + 0.06, SKIRT);
    built.push({ kind: 'outer', x0, z0, x1, z1, height: OUTER_HEIGHT });
  }
  for (const [x0, z0, x1, z1] of world.doors || []) {
    walls.segment(x0, z0, x1, z1, DOOR_HEIGHT, OUTER_HEIGHT, THICK, PLASTER);
    // Two sliding glass leaves, open: parked beside the opening, just inside the wall.
    const mx = (x0 + x1) / 2, mz = (z0 + z1) / 2;
    const len = Math.hypot(x1 - x0, z1 - z0);
    const ux = (x1 - x0) / len, uz = (z1 - z0) / len;
    const cx = (minX + maxX) / 2 - mx, cz = (minZ + maxZ) / 2 - mz;
    const inward = -uz * cx + ux * cz > 0 ? 1 : -1; // the normal (-uz, ux) or its opposite
    const ix = -uz * inward * 0.3, iz = ux * inward * 0.3;
    const leaf = len / 2;
    glass.segment(x0 - ux * leaf + ix, z0 - uz * leaf + iz, x0 + ix, z0 + iz, 0.02, DOOR_HEIGHT, 0.06, GLASS_COLOR);
    glass.segment(x1 + ix, z1 + iz, x1 + ux * leaf + ix, z1 + uz * leaf + iz, 0.02, DOOR_HEIGHT, 0.06, GLASS_COLOR);
    objects.push({ kind: 'door', id: `door:${mx},${mz}`, x: mx, z: mz });
  }

  // -- inner walls: a solid dado, glass above it, mullions and a top rail; jambs at doorways.
  const inner = (world.walls || []).map((w) => w.map(Number));
  for (const [x0, z0, x1, z1] of inner) {
    const len = Math.hypot(x1 - x0, z1 - z0);
    if (len < 0.01) continue;
    walls.segment(x0, z0, x1, z1, 0, DADO, THICK, DADO_COLOR);
    walls.segment(x0, z0, x1, z1, INNER_HEIGHT - RAIL, INNER_HEIGHT, THICK, DADO_COLOR);
    glass.segment(x0, z0, x1, z1, DADO, INNER_HEIGHT - RAIL, 0.06, GLASS_COLOR);
    const n = Math.max(1, Math.round(len / MULLION_EVERY));
    for (let i = 1; i < n; i++) {
      const k = i / n;
      const x = x0 + (x1 - x0) * k, z = z0 + (z1 - z0) * k;
      walls.box(x, (DADO + INNER_HEIGHT - RAIL) / 2, z, 0.1, INNER_HEIGHT - RAIL - DADO, 0.12, WALL_COLOR, -Math.atan2(z1 - z0, x1 - x0));
    }
    built.push({ kind: 'inner', x0, z0, x1, z1, height: INNER_HEIGHT });
  }
  const all = [...outer, ...inner];
  const ends = freeEnds(all, world.bounds);
  for (const { x, z } of ends) walls.box(x, (INNER_HEIGHT + 0.1) / 2, z, 0.45, INNER_HEIGHT + 0.1, 0.45, JAMB);
  for (const [x0, z0, x1, z1] of world.doors || []) {
    for (const [x, z] of [[x0, z0], [x1, z1]]) walls.box(x, OUTER_HEIGHT / 2, z, 0.45, OUTER_HEIGHT, 0.45, JAMB);
  }
  const doorways = doorwaysOf(all, ends);

  // -- the stage: a platform with an amber front edge, steps at both ends of the front,
  //    a dark backdrop, and the frame and legs the stage screen hangs on.
  const st = world.stage;
  if (st?.rect) {
    const [x0, z0, x1, z1] = st.rect;
    const h = st.height || 0.5;
    solid.box((x0 + x1) / 2, (h - 0.06) / 2, (z0 + z1) / 2, x1 - x0, h - 0.06, z1 - z0, STAGE_COLOR);
    solid.box((x0 + x1) / 2, h - 0.03, (z0 + z1) / 2, x1 - x0, 0.06, z1 - z0, shade(STAGE_COLOR, 1.3)); // the boards
    // The front faces the middle of the stage's zone (the audience).
    const zone = zones.find((z) => z.id === st.zone) || zones.find((z) => z.kind === 'event');
    const [zx0, zz0, zx1, zz1] = zone?.rect || world.bounds;
    const ax = (zx0 + zx1) / 2 - (x0 + x1) / 2, az = (zz0 + zz1) / 2 - (z0 + z1) / 2;
    const alongX = Math.abs(ax) * (z1 - z0) >= Math.abs(az) * (x1 - x0); // the front is an x side
    const sign = alongX ? Math.sign(ax) || -1 : Math.sign(az) || -1;
    const frontAt = alongX ? (sign < 0 ? x0 : x1) : (sign < 0 ? z0 : z1);
    const span = alongX ? [z0, z1] : [x0, x1];
    if (alongX) solid.box(frontAt + sign * 0.04, h - 0.04, (z0 + z1) / 2, 0.1, 0.1, z1 - z0, NOSING);
    else solid.box((x0 + x1) / 2, h - 0.04, frontAt + sign * 0.04, x1 - x0, 0.1, 0.1, NOSING);
    const steps = Math.max(1, Math.ceil(h / STEP_RISE));
    const rise = h / steps;
    for (const across of [span[0] + 1.4, span[1] - 1.4]) {
      for (let i = 0; i < steps; i++) {
        const top = h - i * rise; // the step i treads out from the edge, each lower
        const out = (i + 1) * STEP_TREAD;
        const c = frontAt + sign * (out - STEP_TREAD / 2);
        if (alongX) {
          solid.box(c, (top - rise) / 2, across, STEP_TREAD, top - rise, 1.8, STAGE_COLOR);
          solid.box(c + sign * (STEP_TREAD / 2 - 0.04), top - rise - 0.02, across, 0.08, 0.04, 1.8, NOSING);
        } else {
          solid.box(across, (top - rise) / 2, c, 1.8, top - rise, STEP_TREAD, STAGE_COLOR);
          solid.box(across, top - rise - 0.02, c + sign * (STEP_TREAD / 2 - 0.04), 1.8, 0.04, 0.08, NOSING);
        }
      }
      objects.push({ kind: 'stage-steps', id: `steps:${across}`, x: alongX ? frontAt : across, z: alongX ? across : frontAt });
    }
    // The screen (features/events/stage.js) hangs facing west near the stage's east end: its stand and frame.
    const width = Math.min(SCREEN_W, (z1 - z0) * 0.8);
    const height = width * SCREEN_ASPECT;
    const sx = Math.max(x0, Math.min(x0 + (x1 - x0) * 0.92, x1 - 0.3));
    const sy = h + SCREEN_GAP + height / 2;
    const sz = (z0 + z1) / 2;
    solid.box(sx + 0.12, sy, sz, 0.16, height + 0.3, width + 0.3, DARK);
    for (const side of [-1, 1]) solid.box(sx + 0.2, (h + sy) / 2, sz + side * (width / 2 - 0.6), 0.2, sy - h, 0.2, DARK);
    // The backdrop behind it, up to above the screen: seen from afar through the glass walls.
    const top = sy + height / 2 + 1;
    walls.box(x1 - 0.12, top / 2, sz, 0.2, top, z1 - z0, BACKDROP);
    objects.push({ kind: 'stage', id: 'stage', x: (x0 + x1) / 2, z: sz, front: alongX ? 'x' : 'z' });
    objects.push({ kind: 'screen-stand', id: 'stage-screen-stand', x: sx, z: sz, top: sy + height / 2 });
  }

  // -- service desks: a wooden counter with a light top, the staff chair, the ticket kiosk beside it.
  for (const desk of world.desks || []) {
    const [x, z] = desk.position;
    const yaw = desk.yaw || 0;
    const cx = x - Math.sin(yaw), cz = z - Math.cos(yaw); // 1 m ahead of the staff spot
    solid.box(cx, 0.5, cz, 2.4, 1.0, 0.8, DESK_COLOR, yaw);
    solid.box(cx, 1.03, cz, 2.6, 0.06, 0.95, COUNTER_TOP, yaw);
    solid.box(x, 0.25, z, 0.5, 0.5, 0.5, DARK, yaw); // the staff chair
    solid.box(x + Math.sin(yaw) * 0.22, 0.75, z + Math.cos(yaw) * 0.22, 0.5, 0.5, 0.08, DARK, yaw);
    const k = kioskSpot(desk);
    solid.box(k.x, 0.65, k.z, 0.5, 1.3, 0.35, KIOSK_COLOR, yaw);
    solid.box(k.x - Math.sin(yaw) * 0.12, 1.2, k.z - Math.cos(yaw) * 0.12, 0.42, 0.32, 0.05, DARK, yaw, -0.5);
    objects.push({ kind: 'desk', id: desk.id, x: cx, z: cz }, { kind: 'ticket-kiosk', id: desk.id, x: k.x, z: k.z });
    addLabel(() => [t('kiosk.label', { letters: deskLetters(world, desk) })], new THREE.Vector3(k.x, 1.75, k.z),
      { background: 'rgba(11, 110, 79, 0.95)', color: '#ffffff' });
  }

  // -- feedback kiosks: a purple post with a slanted screen facing south.
  for (const kiosk of world.kiosks || []) {
    const [x, z] = kiosk.position;
    solid.box(x, 0.55, z, 0.45, 1.1, 0.45, FEEDBACK_COLOR);
    solid.box(x, 1.3, z + 0.1, 0.8, 0.55, 0.08, DARK, 0, -0.5);
    objects.push({ kind: 'feedback-kiosk', id: kiosk.id, x, z });
    addLabel(() => [kioskName(kiosk)], new THREE.Vector3(x, 1.9, z), { background: 'rgba(91, 33, 182, 0.95)', color: '#ffffff' });
  }

  // -- practice desks (training): a teal counter 1 m ahead of the staff spot.
  for (const desk of world.practice_desks || []) {
    const [x, z] = desk.position;
    const yaw = desk.yaw || 0;
    const cx = x - Math.sin(yaw), cz = z - Math.cos(yaw);
    solid.box(cx, 0.5, cz, 2.0, 1.0, 0.7, PRACTICE_COLOR, yaw);
    solid.box(cx, 1.03, cz, 2.2, 0.06, 0.85, COUNTER_TOP, yaw);
    objects.push({ kind: 'practice-desk', id: desk.id, x: cx, z: cz });
    addLabel(() => [practiceDeskName(desk)], new THREE.Vector3(cx, 2.1, cz), { background: 'rgba(15, 118, 110, 0.95)', color: '#ffffff' });
  }

  // -- meshes: one per material.
  const cut = { uCutFrom: { value: new THREE.Vector3() }, uCutTo: { value: new THREE.Vector3() }, uCutOn: { value: 0 } };
  const meshes = [];
  function add(builder, material, name, { cast = true, receive = true } = {}) {
    const g = builder.geometry();
    if (!g) return null;
    const mesh = new THREE.Mesh(g, material);
    mesh.name = name;
    mesh.castShadow = cast;
    mesh.receiveShadow = receive;
    group.add(mesh);
    meshes.push(mesh);
    return mesh;
  }
  add(floor, new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.95 }), 'hall-floor', { cast: false });
  add(solid, new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.75 }), 'hall-solids');
  const wallMesh = add(walls, wallMaterial(cut), 'hall-walls');
  add(glass, new THREE.MeshStandardMaterial({
    vertexColors: true, roughness: 0.1, metalness: 0, transparent: true, opacity: 0.28, depthWrite: false,
  }), 'hall-glass', { cast: false, receive: false });
  if (wallMesh) {
    const focusAt = new THREE.Vector3();
    wallMesh.onBeforeRender = (renderer, scene, camera) => {
      const f = renderer.xr.isPresenting ? null : focus();
      cut.uCutOn.value = f ? 1 : 0;
      if (!f) return;
      cut.uCutFrom.value.setFromMatrixPosition(camera.matrixWorld);
      cut.uCutTo.value.copy(focusAt.set(f.x, floorHeight(world, f.x, f.z) + 1.5, f.z));
    };
  }

  // -- seats: one instanced mesh (a pan, a back and a pedestal), tinted per seat.
  const seats = allSeats(world);
  let seatMesh = null;
  if (seats.length) {
    const seat = new Builder();
    seat.box(0, 0.45, 0, 0.5, 0.07, 0.46, 0xffffff);
    seat.box(0, 0.75, 0.21, 0.5, 0.55, 0.06, 0xffffff);
    seat.box(0, 0.22, 0, 0.08, 0.44, 0.3, 0x9ca3af);
    seatMesh = new THREE.InstancedMesh(seat.geometry(), new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.7 }), seats.length);
    seatMesh.name = 'hall-seats';
    seatMesh.castShadow = true;
    seatMesh.receiveShadow = true;
    const m = new THREE.Matrix4();
    const q = new THREE.Quaternion();
    const up = new THREE.Vector3(0, 1, 0);
    seats.forEach((s, i) => {
      q.setFromAxisAngle(up, s.yaw);
      seatMesh.setMatrixAt(i, m.compose(tmpV.set(s.x, floorHeight(world, s.x, s.z), s.z), q, ONE));
      seatMesh.setColorAt(i, tmpColor.set(s.audience ? AUDIENCE_SEAT_COLOR : SEAT_COLOR));
    });
    seatMesh.instanceMatrix.needsUpdate = true;
    seatMesh.computeBoundingSphere();
    group.add(seatMesh);
    meshes.push(seatMesh);
  }

  const ray = new THREE.Raycaster();
  return {
    info() {
      return {
        objects: objects.map((o) => ({ ...o })),
        walls: built.map((w) => ({ ...w })),
        doorways: doorways.map((d) => ({ ...d })),
        jambs: ends.length + 2 * (world.doors || []).length,
        seats: seats.length,
        audienceSeats: seats.filter((s) => s.audience).length,
        meshes: meshes.map((m) => ({ name: m.name, castShadow: m.castShadow, receiveShadow: m.receiveShadow, instances: m.count ?? 1 })),
        cutaway: cut.uCutOn.value > 0.5,
      };
    },
    /** Whether a level ray from (x0, z0) to (x1, z1) at height y meets a wall or glass. */
    hitsWall(x0, z0, x1, z1, y = 1.5) {
      const from = new THREE.Vector3(x0, y, z0);
      const dir = new THREE.Vector3(x1 - x0, 0, z1 - z0);
      const far = dir.length();
      ray.set(from, dir.normalize());
      ray.far = far;
      const targets = meshes.filter((m) => m.name === 'hall-walls' || m.name === 'hall-glass');
      return ray.intersectObjects(targets, false).length > 0;
    },
  };
}

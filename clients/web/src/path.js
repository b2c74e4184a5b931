// Route finding around walls for "walk to" places and VR teleports: a
// visibility graph over points just beyond each wall end (where doorways are),
// searched with Dijkstra. Worlds have a handful of walls, so this is tiny.
//
//   findPath(world, {x, z}, {x, z}) -> [{x, z}, ...] waypoints ending at the goal,
//                                      or null when there is no way there.

const CLEARANCE = 0.5; // metres kept from walls (the server's body radius is 0.3)
const CORNER = 0.8;
// Legs from the start or to the goal may pass as close as those points are
// themselves (an avatar standing by a desk), but never closer than the server allows.
const MIN_CLEARANCE = 0.3; // how far beyond a wall end the corner points sit

function segDistance(ax, az, bx, bz, px, pz, qx, qz) {
  const cross = (ox, oz, ux, uz, vx, vz) => (ux - ox) * (vz - oz) - (uz - oz) * (vx - ox);
  const d1 = cross(px, pz, qx, qz, ax, az), d2 = cross(px, pz, qx, qz, bx, bz);
  const d3 = cross(ax, az, bx, bz, px, pz), d4 = cross(ax, az, bx, bz, qx, qz);
  if (d1 * d2 < 0 && d3 * d4 < 0) return 0;
  const pointSeg = (x, z, sx, sz, ex, ez) => {
    const dx = ex - sx, dz = ez - sz;
    const len2 = dx * dx + dz * dz;
    const t = len2 > 0 ? Math.min(1, Math.max(0, ((x - sx) * dx + (z - sz) * dz) / len2)) : 0;
    return Math.hypot(x - (sx + t * dx), z - (sz + t * dz));
  };
  return Math.min(
    pointSeg(ax, az, px, pz, qx, qz), pointSeg(bx, bz, px, pz, qx, qz),
    pointSeg(px, pz, ax, az, bx, bz), pointSeg(qx, qz, ax, az, bx, bz),
  );
}

/** Can one walk straight from a to b keeping `clearance` from every wall? */
export function clearLine(walls, a, b, clearance = CLEARANCE) {
  return walls.every(([px, pz, qx, qz]) => segDistance(a.x, a.z, b.x, b.z, px, pz, qx, qz) >= clearance);
}

function cornerPoints(world) {
  const [x0, z0, x1, z1] = world.bounds;
  const inside = (p) => p.x > x0 + CLEARANCE && p.x < x1 - CLEARANCE && p.z > z0 + CLEARANCE && p.z < z1 - CLEARANCE;
  const out = [];
  for (const [px, pz, qx, qz] of world.walls || []) {
    const len = Math.hypot(qx - px, qz - pz);
    if (len === 0) continue;
    const dx = (qx - px) / len, dz = (qz - pz) / len;
    for (const [ex, ez, sx, sz] of [[qx, qz, 1, 1], [px, pz, -1, -1]]) {
      const ax = ex + dx * CORNER * sx, az = ez + dz * CORNER * sz;
      for (const side of [1, -1]) out.push({ x: ax - dz * CORNER * side, z: az + dx * CORNER * side });
    }
  }
  return out.filter(inside);
}

/** Distance from a point to the nearest wall. */
function pointClearance(walls, p) {
  return Math.min(Infinity, ...walls.map(([px, pz, qx, qz]) => segDistance(p.x, p.z, p.x, p.z, px, pz, qx, qz)));
}

export function findPath(world, from, to) {
  const walls = world.walls || [];
  const near = (p) => Math.max(MIN_CLEARANCE, Math.min(CLEARANCE, pointClearance(walls, p) - 1e-6));
  const fromClear = near(from), toClear = near(to);
  if (clearLine(walls, from, to, Math.min(fromClear, toClear))) return [to];
  const nodes = [from, ...cornerPoints(world).filter((p) => clearLine(walls, p, p, CLEARANCE)), to];
  const n = nodes.length;
  const dist = new Array(n).fill(Infinity);
  const prev = new Array(n).fill(-1);
  const done = new Array(n).fill(false);
  dist[0] = 0;
  for (;;) {
    let u = -1;
    for (let i = 0; i < n; i++) if (!done[i] && (u === -1 || dist[i] < dist[u])) u = i;
    if (u === -1 || dist[u] === Infinity) return null;
    if (u === n - 1) break;
    done[u] = true;
    for (let v = 0; v < n; v++) {
      if (done[v] || v === u) continue;
      // The last leg may end near a wall (a desk, a corner); only the walk in between needs room.
      const clearance = Math.min(u === 0 ? fromClear : CLEARANCE, v === n - 1 ? toClear : CLEARANCE);
      if (!clearLine(walls, nodes[u], nodes[v], clearance)) continue;
      const d = dist[u] + Math.hypot(nodes[v].x - nodes[u].x, nodes[v].z - nodes[u].z);
      if (d < dist[v]) { dist[v] = d; prev[v] = u; }
    }
  }
  const path = [];
  for (let i = n - 1; i > 0; i = prev[i]) path.unshift(nodes[i]);
  return path;
}

// The local avatar: moved at once on the page (client-side prediction), sent
// to the server as 'move' messages at most tick_hz times a second and only when
// it changed. The server is authoritative: a 'correct' snaps the avatar back.
//
// The same bounds, wall and speed rules as spatial/movement.py are applied
// here first, so an honest client rarely gets corrected.
//
// Directions: yaw 0 faces -z (north); yaw grows counter-clockwise seen from
// above, so forward = (-sin yaw, -cos yaw) and right = (cos yaw, -sin yaw).

import { wrapYaw } from './protocol/frames.js';

const BODY_RADIUS = 0.3;
/** Walk a little under the server's limit so jitter never makes us too fast. */
const SPEED_FACTOR = 0.95;
const TURN_RATE = 2.4; // rad/s
const ARRIVE_M = 0.05;

/** Does the walk a->b cross a wall or end within `r` of one? (spatial/movement.py) */
export function crossesWall(walls, ax, az, bx, bz, r = BODY_RADIUS) {
  if (ax === bx && az === bz) return false;
  for (const [px, pz, qx, qz] of walls) {
    const d1 = (qx - px) * (az - pz) - (qz - pz) * (ax - px);
    const d2 = (qx - px) * (bz - pz) - (qz - pz) * (bx - px);
    const d3 = (bx - ax) * (pz - az) - (bz - az) * (px - ax);
    const d4 = (bx - ax) * (qz - az) - (bz - az) * (qx - ax);
    if (d1 * d2 < 0 && d3 * d4 < 0) return true;
    const sx = qx - px, sz = qz - pz;
    const len2 = Math.max(sx * sx + sz * sz, 1e-12);
    const t = Math.min(1, Math.max(0, ((bx - px) * sx + (bz - pz) * sz) / len2));
    const cx = px + t * sx, cz = pz + t * sz;
    if ((cx - bx) ** 2 + (cz - bz) ** 2 < r * r) return true;
  }
  return false;
}

export class LocalAvatar {
  /** world: the welcome's world map; maxSpeed: welcome.limits.max_speed (m/s). */
  constructor(world, maxSpeed) {
    this.bounds = world.bounds;
    this.walls = world.walls || [];
    this.speed = maxSpeed * SPEED_FACTOR;
    this.x = 0;
    this.z = 0;
    this.yaw = 0;
    this.route = []; // [{x, z}, ...] waypoints while walking somewhere
    this.lastS = null;
  }

  place(x, z, yaw) {
    this.x = x;
    this.z = z;
    this.yaw = wrapYaw(yaw);
    this.route = [];
  }

  /** The server moved us: take its position; keep walking unless it moved us far. */
  snap(x, z, yaw) {
    const far = Math.hypot(x - this.x, z - this.z) > 1;
    this.x = x;
    this.z = z;
    this.yaw = wrapYaw(yaw);
    if (far) this.route = [];
  }

  /** Turn on the spot by `dyaw` radians (+ counter-clockwise), e.g. a drag to look around. */
  turnBy(dyaw) {
    if (!Number.isFinite(dyaw) || dyaw === 0) return;
    this.yaw = wrapYaw(this.yaw + dyaw);
  }

  /** Walk in a straight line to (x, z) at walking speed. */
  walkTo(x, z) {
    this.walkRoute([{ x, z }]);
  }

  /** Walk through `points` in order, straight from each to the next. */
  walkRoute(points) {
    const [x0, z0, x1, z1] = this.bounds;
    const r = BODY_RADIUS;
    this.route = points.map((p) => ({
      x: Math.min(Math.max(p.x, x0 + r), x1 - r),
      z: Math.min(Math.max(p.z, z0 + r), z1 - r),
    }));
  }

  walking() {
    return this.route.length > 0;
  }

  /**
   * Advance to local time `nowS` (seconds) with `axes` (keyboard and joystick, -1..1).
   * Safe to call from several loops: it only integrates the time since the last call.
   */
  advance(nowS, axes) {
    if (this.lastS === null) this.lastS = nowS;
    const dt = Math.min(0.25, Math.max(0, nowS - this.lastS));
    this.lastS = nowS;
    if (dt === 0) return;
    const keyed = axes.forward || axes.strafe || axes.turn;
    if (keyed) this.route = [];
    let dx = 0, dz = 0;
    if (keyed) {
      this.yaw = wrapYaw(this.yaw + axes.turn * TURN_RATE * dt);
      const s = Math.sin(this.yaw), c = Math.cos(this.yaw);
      let fx = -s * axes.forward + c * axes.strafe;
      let fz = -c * axes.forward - s * axes.strafe;
      const len = Math.hypot(fx, fz);
      if (len > 0) {
        // Keys give a length of 1 or more (full speed, diagonals not faster); an
        // analog stick less: it walks slower, by how far it is pushed.
        const step = (Math.min(1, len) / len) * this.speed * dt;
        dx = fx * step;
        dz = fz * step;
      }
    } else if (this.route.length) {
      const target = this.route[0];
      const tx = target.x - this.x, tz = target.z - this.z;
      const dist = Math.hypot(tx, tz);
      if (dist < ARRIVE_M) {
        this.route.shift();
      } else {
        this.yaw = Math.atan2(-tx, -tz);
        const step = Math.min(dist, this.speed * dt);
        dx = (tx / dist) * step;
        dz = (tz / dist) * step;
      }
    }
    if (dx || dz) this.tryMove(this.x + dx, this.z + dz);
  }

  tryMove(nx, nz) {
    const [x0, z0, x1, z1] = this.bounds;
    const r = BODY_RADIUS;
    nx = Math.min(Math.max(nx, x0 + r), x1 - r);
    nz = Math.min(Math.max(nz, z0 + r), z1 - r);
    if (crossesWall(this.walls, this.x, this.z, nx, nz)) {
      // Slide along the wall: try each axis on its own.
      if (!crossesWall(this.walls, this.x, this.z, nx, this.z)) nz = this.z;
      else if (!crossesWall(this.walls, this.x, this.z, this.x, nz)) nx = this.x;
      else { this.route = []; return; }
    }
    this.x = nx;
    this.z = nz;
  }
}

/** Sends the local avatar's pose as 'move' messages, at most `hz` a second, only on change. */
export class MoveSender {
  constructor(send, hz) {
    this.send = send;
    this.intervalMs = 1000 / hz;
    this.seq = 0;
    this.sent = null;
    this.timer = null;
  }

  start(avatar, beforeSend) {
    this.stop();
    this.sent = { x: avatar.x, z: avatar.z, yaw: avatar.yaw };
    this.timer = setInterval(() => {
      beforeSend?.();
      const s = this.sent;
      if (Math.abs(avatar.x - s.x) < 1e-3 && Math.abs(avatar.z - s.z) < 1e-3 && Math.abs(avatar.yaw - s.yaw) < 1e-3) return;
      this.seq = (this.seq + 1) >>> 0;
      if (this.send({ t: 'move', seq: this.seq, x: avatar.x, z: avatar.z, yaw: avatar.yaw })) {
        this.sent = { x: avatar.x, z: avatar.z, yaw: avatar.yaw };
      }
    }, this.intervalMs);
  }

  /** The server put us somewhere: that is now what it knows. */
  corrected(x, z, yaw) {
    this.sent = { x, z, yaw };
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }
}

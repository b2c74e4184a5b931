// Every avatar of the 3D view, drawn in a handful of draw calls whatever their
// number: one THREE.InstancedMesh per body part (head, torso, arms, legs), with
// the person's clothing colour as the instance colour and one matrix per
// instance written each frame from the avatar's pose and walk phase.
//
//   const crowd = new Crowd(scene, { software, reducedMotion: () => bool });
//   crowd.add(avatar); crowd.remove(id); crowd.clear(); crowd.get(id);
//   crowd.setSpeaking(id, on); crowd.setVisible(id, visible);
//   crowd.update(nowS, dt, camera);    // every frame, before rendering
//   crowd.stats() -> {count, near, far, tags, speaking: [ids]}; crowd.debug(id)
//
// Level of detail: the nearest avatars (up to MAX_NEAR, within NEAR_M metres of
// the camera) have a head, torso, two arms and two legs; the others are one
// cheaper instanced shape without limbs. Draw calls: 4 near parts + 1 far shape +
// 1 badge + 1 speaking ring, whatever the crowd's size, plus one per name tag.
// Name tags (sprites: a draw call each) show only for the MAX_TAGS nearest within
// TAG_M, plus everyone speaking, plus staff, hosts and admins within STAFF_TAG_M
// (at their desk, or on the stage), plus oneself; at most TAG_LIMIT in all.
// Who is near and who has a tag is chosen every RESORT_S, not every frame.
//
// Animation: the speed of an avatar is how fast its pose moved between frames
// (smoothed); legs and arms swing with it, the body bobs; a standing avatar
// breathes and its arms sway a little. With prefers-reduced-motion, nothing
// swings or bobs: the avatars only take their poses. Per frame nothing is
// allocated: the matrices, vectors and quaternions below are reused.

import * as THREE from 'three';
import { GeometryBuilder } from './geometry.js';

const NEAR_M = 30;
const MAX_NEAR = 300;
const MAX_NEAR_SOFTWARE = 120;
const MAX_TAGS = 12;
const TAG_M = 25;
const STAFF_TAG_M = 35;
const TAG_LIMIT = 24;
const RESORT_S = 0.25;
const STAFF = new Set(['staff', 'host', 'admin']);
const STRIDE_M = 1.4; // one walk cycle (two steps)
const SWING = 0.55; // radians at full stride
const SPEAKING_COLOR = 0x16a34a;
const BADGE_COLOR = 0xf5c518;

// The body at build 1 (1.75 m), feet at y=0, facing -z. Limbs hang from their pivot.
const HIP_Y = 0.88, HIP_X = 0.1;
const SHOULDER_Y = 1.39, SHOULDER_X = 0.25;
const NECK_Y = 1.45;

/** One geometry of several parts, each [geometry, grey level or [r, g, b]] (vertex
 * colours that multiply the instance colour: 1 is the clothing or skin itself). */
function merge(parts) {
  const b = new GeometryBuilder();
  for (const [g, shade = 1] of parts) {
    b.add(g, Array.isArray(shade) ? shade : [shade, shade, shade]);
    g.dispose();
  }
  return b.geometry();
}

function headGeometry() {
  // Origin at the base of the neck; skin is the instance colour, hair darker.
  return merge([
    [new THREE.CylinderGeometry(0.055, 0.06, 0.1, 8).translate(0, 0.05, 0)],
    [new THREE.IcosahedronGeometry(0.115, 1).scale(1, 1.15, 1.05).translate(0, 0.21, 0)],
    [new THREE.BoxGeometry(0.035, 0.05, 0.05).translate(0, 0.2, -0.12)], // the nose: where one faces
    [new THREE.SphereGeometry(0.125, 10, 6, 0, Math.PI * 2, 0, Math.PI * 0.5).scale(1, 0.9, 1.08)
      .translate(0, 0.245, 0.012), [0.28, 0.2, 0.14]],
  ]);
}

function torsoGeometry() {
  // At build scale from the feet: pelvis (belt, darker), chest, shoulders.
  return merge([
    [new THREE.BoxGeometry(0.32, 0.16, 0.2).translate(0, 0.95, 0), 0.45],
    [new THREE.CylinderGeometry(0.2, 0.155, 0.48, 10).scale(1, 1, 0.62).translate(0, 1.18, 0)],
    [new THREE.BoxGeometry(0.46, 0.11, 0.2).translate(0, 1.385, 0)],
  ]);
}

function armGeometry() {
  // From the shoulder down: sleeve, then a hand a little lighter.
  return merge([
    [new THREE.BoxGeometry(0.095, 0.56, 0.105).translate(0, -0.28, 0)],
    [new THREE.BoxGeometry(0.075, 0.09, 0.09).translate(0, -0.61, 0), [1.25, 1.15, 1.05]],
  ]);
}

function legGeometry() {
  // From the hip down: trouser leg, then a shoe.
  return merge([
    [new THREE.BoxGeometry(0.14, 0.81, 0.16).translate(0, -0.405, 0)],
    [new THREE.BoxGeometry(0.13, 0.07, 0.26).translate(0, -0.845, -0.05), 0.35],
  ]);
}

function farGeometry() {
  // Far away: a body and a head in one, no limbs (a tenth of the triangles).
  return merge([
    [new THREE.CylinderGeometry(0.21, 0.14, 1.45, 6).translate(0, 0.725, 0)],
    [new THREE.IcosahedronGeometry(0.13, 0).translate(0, 1.6, 0), 1.3],
  ]);
}

/** An instanced mesh of `geometry` for up to `capacity` instances, none drawn yet. */
function instanced(geometry, material, capacity, { colors = true, shadow = false } = {}) {
  const mesh = new THREE.InstancedMesh(geometry, material, capacity);
  mesh.count = 0;
  mesh.frustumCulled = false; // instances move every frame; the whole crowd is one bound
  mesh.castShadow = shadow;
  mesh.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
  if (colors) {
    mesh.instanceColor = new THREE.InstancedBufferAttribute(new Float32Array(capacity * 3), 3);
    mesh.instanceColor.setUsage(THREE.DynamicDrawUsage);
  }
  return mesh;
}

// Scratch objects for the per-frame loop.
const _m = new THREE.Matrix4();
const _p = new THREE.Vector3();
const _s = new THREE.Vector3();
const _q = new THREE.Quaternion();
const _qYaw = new THREE.Quaternion();
const _qLimb = new THREE.Quaternion();
const _cam = new THREE.Vector3();

export class Crowd {
  constructor(scene, { software = false, reducedMotion = () => false } = {}) {
    this.scene = scene;
    this.reducedMotion = reducedMotion;
    this.maxNear = software ? MAX_NEAR_SOFTWARE : MAX_NEAR;
    this.avatars = new Map(); // id -> Avatar
    this.order = []; // the avatars, nearest first (sorted every RESORT_S)
    this.speakingIds = new Set(); // may name avatars not (yet) in view
    this.sinceSort = Infinity;
    this.group = new THREE.Group();
    this.group.name = 'crowd';
    this.tags = new THREE.Group();
    this.group.add(this.tags);
    scene.add(this.group);
    const lambert = (opts) => new THREE.MeshLambertMaterial({ vertexColors: true, ...opts });
    this.materials = [lambert(), new THREE.MeshLambertMaterial({ color: BADGE_COLOR, emissive: 0x6b5200 }),
      new THREE.MeshBasicMaterial({ color: SPEAKING_COLOR })];
    const [body, badge, ring] = this.materials;
    this.parts = {
      head: { geometry: headGeometry(), material: body, per: 1, shadow: true },
      torso: { geometry: torsoGeometry(), material: body, per: 1, shadow: true },
      arms: { geometry: armGeometry(), material: body, per: 2, shadow: true },
      legs: { geometry: legGeometry(), material: body, per: 2, shadow: true },
      far: { geometry: farGeometry(), material: body, per: 1, shadow: false },
      badge: { geometry: new THREE.OctahedronGeometry(0.14), material: badge, per: 1, shadow: false, colors: false },
      ring: { geometry: new THREE.TorusGeometry(0.3, 0.025, 6, 28).rotateX(Math.PI / 2), material: ring, per: 1,
        shadow: false, colors: false },
    };
    const { head, torso, arms, legs, far } = this.parts;
    this.drawOrder = [torso, head, arms, legs, far, this.parts.badge, this.parts.ring];
    this.counts = new Array(this.drawOrder.length).fill(0);
    this.capacity = 0;
    this.grow(64);
  }

  /** (Re)make the instanced meshes for `capacity` avatars. */
  grow(capacity) {
    this.capacity = capacity;
    for (const p of Object.values(this.parts)) {
      if (p.mesh) { this.group.remove(p.mesh); p.mesh.dispose(); }
      p.mesh = instanced(p.geometry, p.material, capacity * p.per, { colors: p.colors !== false, shadow: p.shadow });
      p.mesh.name = `crowd-${Object.keys(this.parts).find((k) => this.parts[k] === p)}`;
      this.group.add(p.mesh);
    }
  }

  add(avatar) {
    this.remove(avatar.id);
    this.avatars.set(avatar.id, avatar);
    this.order.push(avatar);
    avatar.speaking = this.speakingIds.has(avatar.id);
    if (this.avatars.size > this.capacity) this.grow(this.capacity * 2);
    this.sinceSort = Infinity;
    return avatar;
  }

  get(id) {
    return this.avatars.get(id);
  }

  remove(id) {
    const a = this.avatars.get(id);
    if (!a) return;
    if (a.tag) this.tags.remove(a.tag.sprite);
    a.dispose();
    this.avatars.delete(id);
    const i = this.order.indexOf(a);
    if (i >= 0) this.order.splice(i, 1);
    this.sinceSort = Infinity;
  }

  clear() {
    for (const id of [...this.avatars.keys()]) this.remove(id);
  }

  setVisible(id, visible) {
    const a = this.avatars.get(id);
    if (a) { a.visible = visible; this.sinceSort = Infinity; }
  }

  setSpeaking(id, on) {
    if (on) this.speakingIds.add(id);
    else this.speakingIds.delete(id);
    const a = this.avatars.get(id);
    if (a && a.speaking !== on) {
      a.speaking = on;
      a.relabel();
      this.sinceSort = Infinity; // a speaker gets a tag at once
    }
  }

  relabel() {
    for (const a of this.avatars.values()) a.relabel();
  }

  /** Who is near (limbs) and who has a tag: by distance to the camera. */
  sort(camera) {
    camera.getWorldPosition(_cam);
    for (const a of this.order) {
      const dx = a.x - _cam.x, dz = a.z - _cam.z;
      a.dist2 = dx * dx + dz * dz;
    }
    this.order.sort((a, b) => a.dist2 - b.dist2);
    let near = 0, nearest = 0, tags = 0;
    const nearM2 = NEAR_M * NEAR_M, tagM2 = TAG_M * TAG_M, staffM2 = STAFF_TAG_M * STAFF_TAG_M;
    // Speakers and oneself first, then staff, then the nearest: at most TAG_LIMIT tags.
    for (const a of this.order) a.wantTag = false;
    for (const pass of [0, 1, 2]) {
      for (const a of this.order) {
        if (!a.visible || a.wantTag || tags >= TAG_LIMIT) continue;
        const want = pass === 0 ? a.speaking || a.isSelf
          : pass === 1 ? STAFF.has(a.entity.role) && a.dist2 < staffM2
            : nearest < MAX_TAGS && a.dist2 < tagM2;
        if (pass === 2 && want) nearest += 1;
        if (want) { a.wantTag = true; tags += 1; }
      }
    }
    for (const a of this.order) {
      a.near = a.visible && near < this.maxNear && a.dist2 < nearM2;
      if (a.near) near += 1;
      if (a.wantTag !== a.tagShown) {
        a.tagShown = a.wantTag;
        if (a.wantTag) this.tags.add(a.ensureTag().sprite);
        else if (a.tag) this.tags.remove(a.tag.sprite);
      }
    }
  }

  /** Advance the animation and write every instance; call once a frame before rendering. */
  update(nowS, dt, camera) {
    this.camera = camera;
    this.sinceSort += dt;
    if (this.sinceSort >= RESORT_S) {
      this.sinceSort = 0;
      this.sort(camera);
    }
    const still = this.reducedMotion();
    const { head, torso, arms, legs, far, badge, ring } = this.parts;
    let n = 0, f = 0, b = 0, r = 0;
    const pulse = still ? 1 : 1 + 0.25 * (0.5 + 0.5 * Math.sin(nowS * 9));
    for (const a of this.order) {
      // Speed from how far the pose moved since the last frame (a jump is not a walk).
      if (dt > 0) {
        const dx = a.x - a.px, dz = a.z - a.pz;
        let v = Math.sqrt(dx * dx + dz * dz) / dt;
        if (v > 12) v = 0;
        a.speed += (v - a.speed) * (1 - Math.exp(-dt * 10));
        if (a.speed < 0.02) a.speed = 0;
      }
      a.px = a.x; a.pz = a.z;
      if (!a.visible) continue;
      const build = a.build;
      const stride = Math.min(1, a.speed / 1.6);
      if (still) {
        a.phase = 0; a.leg = 0; a.arm = 0; a.bob = 0;
      } else {
        a.phase = (a.phase + (dt * a.speed * Math.PI * 2) / STRIDE_M) % (Math.PI * 2);
        if (stride === 0) a.phase *= Math.exp(-dt * 6); // come to a stand, legs together
        const swing = Math.sin(a.phase) * SWING * stride;
        a.leg = swing;
        a.arm = swing * 0.8 + (1 - stride) * 0.035 * Math.sin(nowS * 1.3 + a.idle);
        a.bob = Math.abs(Math.sin(a.phase)) * 0.035 * stride;
      }
      const y = a.y + a.bob;
      _qYaw.set(0, Math.sin(a.yaw / 2), 0, Math.cos(a.yaw / 2));
      const cos = Math.cos(a.yaw), sin = Math.sin(a.yaw);
      if (a.near) {
        const breath = still ? 1 : 1 + 0.006 * Math.sin(nowS * 1.7 + a.idle) * (1 - stride);
        // Torso: the build's scale from the feet.
        _p.set(a.x, y, a.z);
        _s.set(build.w, build.h * breath, build.d);
        torso.mesh.setMatrixAt(n, _m.compose(_p, _qYaw, _s));
        torso.mesh.setColorAt(n, a.clothing);
        // Head: on the neck, its own size.
        _p.set(a.x, y + NECK_Y * build.h * breath, a.z);
        _s.set(1, 1, 1);
        head.mesh.setMatrixAt(n, _m.compose(_p, _qYaw, _s));
        head.mesh.setColorAt(n, a.skin);
        // Arms and legs: from their pivots, swung about the body's x axis.
        for (let side = 0; side < 2; side++) {
          const sign = side === 0 ? -1 : 1; // left, right
          const k = n * 2 + side;
          _s.set(build.limb, build.h, build.limb);
          let lx = sign * SHOULDER_X * build.w;
          _p.set(a.x + lx * cos, y + SHOULDER_Y * build.h, a.z - lx * sin);
          let angle = sign * a.arm;
          _qLimb.set(Math.sin(angle / 2), 0, 0, Math.cos(angle / 2));
          arms.mesh.setMatrixAt(k, _m.compose(_p, _q.multiplyQuaternions(_qYaw, _qLimb), _s));
          arms.mesh.setColorAt(k, a.clothing);
          lx = sign * HIP_X * build.w;
          _p.set(a.x + lx * cos, y + HIP_Y * build.h, a.z - lx * sin);
          angle = -sign * a.leg;
          _qLimb.set(Math.sin(angle / 2), 0, 0, Math.cos(angle / 2));
          legs.mesh.setMatrixAt(k, _m.compose(_p, _q.multiplyQuaternions(_qYaw, _qLimb), _s));
          legs.mesh.setColorAt(k, a.trousers);
        }
        n += 1;
      } else {
        _p.set(a.x, y, a.z);
        _s.set(build.w, build.h, build.d);
        far.mesh.setMatrixAt(f, _m.compose(_p, _qYaw, _s));
        far.mesh.setColorAt(f, a.clothing);
        f += 1;
      }
      if (a.badgeColor) {
        _p.set(a.x, y + a.height + 0.28, a.z);
        const spin = still ? 0 : nowS * 1.5;
        _q.set(0, Math.sin(spin / 2), 0, Math.cos(spin / 2));
        _s.set(1, 1, 1);
        badge.mesh.setMatrixAt(b++, _m.compose(_p, _q, _s));
      }
      if (a.speaking) {
        // A ring around the head at the mouth, pulsing outwards like sound.
        _p.set(a.x, y + a.height - 0.16, a.z);
        _s.set(pulse, 1, pulse);
        ring.mesh.setMatrixAt(r++, _m.compose(_p, _qYaw, _s));
      }
      if (a.tagShown) a.tag.sprite.position.set(a.x, y + a.height + (a.badgeColor ? 0.5 : 0.22), a.z);
    }
    let meshes = 0;
    const counts = this.counts;
    counts[0] = n; counts[1] = n; counts[2] = n * 2; counts[3] = n * 2; counts[4] = f; counts[5] = b; counts[6] = r;
    for (let i = 0; i < this.drawOrder.length; i++) {
      const p = this.drawOrder[i], count = counts[i];
      p.mesh.count = count;
      p.mesh.visible = count > 0;
      if (count) {
        meshes += 1;
        p.mesh.instanceMatrix.needsUpdate = true;
        if (p.mesh.instanceColor) p.mesh.instanceColor.needsUpdate = true;
      }
    }
    this.meshesDrawn = meshes;
  }

  stats() {
    let near = 0, far = 0, tags = 0, shown = 0;
    for (const a of this.avatars.values()) {
      if (!a.visible) continue;
      shown += 1;
      if (a.near) near += 1; else far += 1;
      if (a.tagShown) tags += 1;
    }
    // calls: the crowd's own draw calls in the main pass (instanced meshes + tags).
    return { count: this.avatars.size, shown, near, far, tags, calls: (this.meshesDrawn ?? 0) + tags,
      rings: this.parts.ring.mesh.count, speaking: [...this.speakingIds].filter((id) => this.avatars.has(id)) };
  }

  /** One avatar's drawn state (tests): limb angles, speed, level of detail, tag. */
  debug(id) {
    const a = this.avatars.get(id);
    if (!a) return null;
    const k = [...this.order].filter((o) => o.visible && o.near).indexOf(a);
    let leftLeg = null;
    if (k >= 0 && k < this.parts.legs.mesh.count / 2) {
      this.parts.legs.mesh.getMatrixAt(k * 2, _m);
      leftLeg = [..._m.elements]; // the instance matrix drawn
    }
    // Whether the middle of the body projects inside the view (the camera of the last frame).
    let onScreen = false;
    if (this.camera && a.visible) {
      const p = new THREE.Vector3(a.x, a.y + a.height / 2, a.z).project(this.camera);
      onScreen = p.z < 1 && Math.abs(p.x) <= 1 && Math.abs(p.y) <= 1;
    }
    return {
      shape: a.shape, near: a.near, onScreen, visible: a.visible, speed: a.speed, leg: a.leg, arm: a.arm, bob: a.bob,
      tag: a.tagShown, speaking: a.speaking, tagLines: a.tagLines(), leftLeg,
    };
  }

  dispose() {
    this.clear();
    for (const p of Object.values(this.parts)) { p.mesh.dispose(); p.geometry.dispose(); }
    for (const m of this.materials) m.dispose();
    this.scene.remove(this.group);
  }
}

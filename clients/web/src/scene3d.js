// The 3D view (three.js): the hall built from the world map, avatars, and a
// third-person camera following the local avatar. Same interface as view2d.js:
//
//   const view = createView3d(canvas);
//   view.setWorld(world); view.addAvatar(entity, isSelf); view.setPose(id, x, z, yaw);
//   view.follow(x, z, yaw); view.pick(clientX, clientY) -> {x, z} | null
//   view.start((nowS, dt) => { ...update poses... });  view.relabel();
//   view.showRoute([{x, z}, ...] | null); view.routeShown() -> bool   (a walk's route on the floor)

import * as THREE from 'three';
import { Avatar } from './avatars.js';
import { makeLabel } from './labels.js';
import {
  DESK_COLOR, FEEDBACK_COLOR, FLOOR_COLOR, KIOSK_COLOR, PRACTICE_COLOR, STAGE_COLOR, WALL_COLOR, deskLetters,
  floorHeight, kioskName, kioskSpot, practiceDeskName, zoneColor, zoneName,
} from './world.js';
import { t } from './core/i18n.js';

const WALL_HEIGHT = 3;
const EDGE_HEIGHT = 1.2;
const CAMERA_BACK = 6;
const CAMERA_UP = 3.4;
const LOOK_AHEAD = 4; // look past the avatar so more of the hall is in view
const REDUCED_MOTION = globalThis.matchMedia?.('(prefers-reduced-motion: reduce)');
const SOFTWARE_FPS = 15;
const ROUTE_COLOR = 0xc2410c; // the route of a walk on the floor (features/orient)

/**
 * Can this browser give us a WebGL context? Probed on a throwaway canvas,
 * quietly. Returns null, or {software} where software is true for CPU
 * renderers (SwiftShader, llvmpipe), which get a cheaper picture.
 */
const pointer = new THREE.Vector2();
const picker = new THREE.Raycaster();

/** Whether a click at (clientX, clientY) on the 3D view's canvas lands on ``object``. */
export function hitsObject(view, object, clientX, clientY) {
  const r = view.canvas.getBoundingClientRect();
  pointer.set(((clientX - r.left) / r.width) * 2 - 1, -((clientY - r.top) / r.height) * 2 + 1);
  picker.setFromCamera(pointer, view.camera);
  return picker.intersectObject(object, true).length > 0;
}

/** Where ``mesh``'s centre shows on the page ({x, y} client pixels), or null off screen. */
export function screenPointOf(view, mesh) {
  const p = new THREE.Vector3();
  mesh.getWorldPosition(p);
  p.project(view.camera);
  if (p.z > 1 || Math.abs(p.x) > 1 || Math.abs(p.y) > 1) return null;
  const r = view.canvas.getBoundingClientRect();
  return { x: r.left + ((p.x + 1) / 2) * r.width, y: r.top + ((1 - p.y) / 2) * r.height };
}

export function probeWebGL() {
  try {
    const probe = document.createElement('canvas');
    const gl = probe.getContext('webgl2') || probe.getContext('webgl');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) || '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { software: /swiftshader|llvmpipe|softpipe|software/i.test(renderer) };
  } catch {
    return null;
  }
}

function box(w, h, d, color, opts = {}) {
  const mesh = new THREE.Mesh(
    new THREE.BoxGeometry(w, h, d),
    new THREE.MeshStandardMaterial({ color, roughness: 0.85, ...opts }),
  );
  return mesh;
}

function segmentWall(x0, z0, x1, z1, height, color, opts) {
  const len = Math.hypot(x1 - x0, z1 - z0);
  const wall = box(len, height, 0.25, color, opts);
  wall.position.set((x0 + x1) / 2, height / 2, (z0 + z1) / 2);
  wall.rotation.y = -Math.atan2(z1 - z0, x1 - x0);
  return wall;
}

/**
 * options.software: a CPU renderer; draw at lower resolution, without
 * antialiasing and at most SOFTWARE_FPS frames a second, so the page (and
 * typing in it) stays responsive.
 */
export function createView3d(canvas, { software = false } = {}) {
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: !software, powerPreference: 'low-power' });
  renderer.setPixelRatio(software ? 0.5 : Math.min(globalThis.devicePixelRatio || 1, 2));
  const minFrameS = software ? 1 / SOFTWARE_FPS : 0;
  renderer.xr.enabled = true;

  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xdfe7ef);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x8d8d80, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 1.6);
  sun.position.set(-20, 40, 25);
  scene.add(sun);

  const camera = new THREE.PerspectiveCamera(60, 1, 0.1, 400);
  // The rig carries the camera; in VR the headset pose is relative to it.
  const rig = new THREE.Group();
  rig.add(camera);
  scene.add(rig);
  camera.position.set(0, 60, 70);
  camera.lookAt(0, 0, 0);

  const worldGroup = new THREE.Group();
  scene.add(worldGroup);
  const avatars = new Map();
  const labels = []; // {label, lines: () => string[]}
  let world = null;
  let followed = null; // {x, z, yaw}
  const camYaw = { value: null };
  const floorPlane = new THREE.Plane(new THREE.Vector3(0, 1, 0), 0);
  const raycaster = new THREE.Raycaster();

  function resize() {
    const w = canvas.clientWidth || 300;
    const h = canvas.clientHeight || 150;
    if (renderer.xr.isPresenting) return;
    renderer.setSize(w, h, false);
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
  }
  new ResizeObserver(resize).observe(canvas);
  resize();

  function addLabel(lines, pos, style) {
    const label = makeLabel(lines(), style);
    label.sprite.position.copy(pos);
    worldGroup.add(label.sprite);
    labels.push({ label, lines });
  }

  function setWorld(w) {
    world = w;
    for (const { label } of labels.splice(0)) label.dispose();
    worldGroup.traverse((o) => { o.geometry?.dispose(); o.material?.dispose?.(); });
    worldGroup.clear();
    const [minX, minZ, maxX, maxZ] = w.bounds;
    const floor = new THREE.Mesh(
      new THREE.PlaneGeometry(maxX - minX + 20, maxZ - minZ + 20).rotateX(-Math.PI / 2),
      new THREE.MeshStandardMaterial({ color: FLOOR_COLOR, roughness: 1 }),
    );
    floor.position.set((minX + maxX) / 2, -0.01, (minZ + maxZ) / 2);
    worldGroup.add(floor);
    for (const zone of w.zones || []) {
      const [x0, z0, x1, z1] = zone.rect;
      const tile = new THREE.Mesh(
        new THREE.PlaneGeometry(x1 - x0, z1 - z0).rotateX(-Math.PI / 2),
        new THREE.MeshStandardMaterial({ color: zoneColor(zone), roughness: 1 }),
      );
      tile.position.set((x0 + x1) / 2, 0, (z0 + z1) / 2);
      worldGroup.add(tile);
      addLabel(() => [zoneName(zone.id)], new THREE.Vector3((x0 + x1) / 2, 6, (z0 + z1) / 2 + (z1 - z0) * 0.35),
        { background: 'rgba(255, 255, 255, 0.9)', color: '#111827' });
    }
    // The outer edge is low so the camera behind an avatar can see over it.
    const edges = [[minX, minZ, maxX, minZ], [maxX, minZ, maxX, maxZ], [maxX, maxZ, minX, maxZ], [minX, maxZ, minX, minZ]];
    for (const [x0, z0, x1, z1] of edges) worldGroup.add(segmentWall(x0, z0, x1, z1, EDGE_HEIGHT, WALL_COLOR));
    for (const [x0, z0, x1, z1] of w.walls || []) {
      worldGroup.add(segmentWall(x0, z0, x1, z1, WALL_HEIGHT, WALL_COLOR, { transparent: true, opacity: 0.8 }));
    }
    if (w.stage) {
      const [x0, z0, x1, z1] = w.stage.rect;
      const h = w.stage.height || 0.5;
      const stage = box(x1 - x0, h, z1 - z0, STAGE_COLOR);
      stage.position.set((x0 + x1) / 2, h / 2, (z0 + z1) / 2);
      worldGroup.add(stage);
    }
    for (const desk of w.desks || []) {
      const [x, z] = desk.position;
      const counter = box(2.4, 1.05, 0.8, DESK_COLOR);
      counter.position.set(x, 0.525, z);
      counter.rotation.y = desk.yaw || 0;
      // The counter stands between the staff spot and the citizen, 1 m ahead.
      counter.position.x -= Math.sin(desk.yaw || 0) * 1;
      counter.position.z -= Math.cos(desk.yaw || 0) * 1;
      counter.name = `desk-counter:${desk.id}`;
      worldGroup.add(counter);
      // Its sign (name, services, the ticket served, open or closed) is live: features/desks/board.js.
      // The ticket kiosk: a post with a screen, beside where citizens are served.
      const k = kioskSpot(desk);
      const post = box(0.5, 1.3, 0.35, KIOSK_COLOR);
      post.position.set(k.x, 0.65, k.z);
      post.rotation.y = desk.yaw || 0;
      worldGroup.add(post);
      addLabel(() => [t('kiosk.label', { letters: deskLetters(w, desk) })], new THREE.Vector3(k.x, 1.75, k.z),
        { background: 'rgba(11, 110, 79, 0.95)', color: '#ffffff' });
    }
    // Feedback kiosks: a purple post with a slanted screen and the kiosk's name.
    for (const kiosk of w.kiosks || []) {
      const [x, z] = kiosk.position;
      const post = box(0.45, 1.1, 0.45, FEEDBACK_COLOR);
      post.position.set(x, 0.55, z);
      worldGroup.add(post);
      const screen = box(0.8, 0.55, 0.08, 0x1f2937);
      screen.position.set(x, 1.3, z + 0.1);
      screen.rotation.x = -0.5; // tilted towards someone standing south of it
      worldGroup.add(screen);
      addLabel(() => [kioskName(kiosk)], new THREE.Vector3(x, 1.9, z),
        { background: 'rgba(91, 33, 182, 0.95)', color: '#ffffff' });
    }
    // Practice desks (training): a teal counter 1 m ahead of the staff spot, with its name.
    for (const desk of w.practice_desks || []) {
      const [x, z] = desk.position;
      const yaw = desk.yaw || 0;
      const counter = box(2.0, 1.05, 0.7, PRACTICE_COLOR);
      counter.position.set(x - Math.sin(yaw) * 1, 0.525, z - Math.cos(yaw) * 1);
      counter.rotation.y = yaw;
      worldGroup.add(counter);
      addLabel(() => [practiceDeskName(desk)], new THREE.Vector3(counter.position.x, 2.1, counter.position.z),
        { background: 'rgba(15, 118, 110, 0.95)', color: '#ffffff' });
    }
  }

  function addAvatar(entity, isSelf = false) {
    removeAvatar(entity.id);
    const a = new Avatar(entity, isSelf);
    avatars.set(entity.id, a);
    scene.add(a.group);
    setPose(entity.id, entity.x, entity.z, entity.yaw);
    return a;
  }

  function removeAvatar(id) {
    const a = avatars.get(id);
    if (!a) return;
    scene.remove(a.group);
    a.dispose();
    avatars.delete(id);
  }

  function clearAvatars() {
    for (const id of [...avatars.keys()]) removeAvatar(id);
  }

  function setPose(id, x, z, yaw) {
    avatars.get(id)?.setPose(x, floorHeight(world, x, z), z, yaw);
  }

  function follow(x, z, yaw) {
    followed = { x, z, yaw };
  }

  function updateCamera(dt) {
    if (!followed) return;
    const y = floorHeight(world, followed.x, followed.z);
    if (renderer.xr.isPresenting) {
      rig.position.set(followed.x, y, followed.z);
      return;
    }
    rig.position.set(0, 0, 0);
    rig.rotation.set(0, 0, 0);
    if (camYaw.value === null) camYaw.value = followed.yaw;
    // prefers-reduced-motion: the camera is where it should be at once, no easing.
    const k = REDUCED_MOTION?.matches ? 1 : 1 - Math.exp(-dt * 4);
    let d = (followed.yaw - camYaw.value) % (Math.PI * 2);
    if (d > Math.PI) d -= Math.PI * 2;
    if (d < -Math.PI) d += Math.PI * 2;
    camYaw.value += d * k;
    // Behind the avatar is opposite its facing: +(sin, cos) * distance.
    const want = new THREE.Vector3(
      followed.x + Math.sin(camYaw.value) * CAMERA_BACK,
      y + CAMERA_UP,
      followed.z + Math.cos(camYaw.value) * CAMERA_BACK,
    );
    camera.position.lerp(want, Math.min(1, k * 2));
    camera.lookAt(
      followed.x - Math.sin(camYaw.value) * LOOK_AHEAD,
      y + 1.2,
      followed.z - Math.cos(camYaw.value) * LOOK_AHEAD,
    );
  }

  /** The floor point under the screen position, or null (outside the world). */
  function pick(clientX, clientY) {
    if (!world) return null;
    const r = canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(((clientX - r.left) / r.width) * 2 - 1, -((clientY - r.top) / r.height) * 2 + 1);
    raycaster.setFromCamera(ndc, camera);
    const hit = new THREE.Vector3();
    if (!raycaster.ray.intersectPlane(floorPlane, hit)) return null;
    const [x0, z0, x1, z1] = world.bounds;
    if (hit.x < x0 || hit.x > x1 || hit.z < z0 || hit.z > z1) return null;
    return { x: hit.x, z: hit.z };
  }

  /** The floor point a ray hits (VR controllers), or null. */
  function pickRay(origin, direction) {
    if (!world) return null;
    const ray = new THREE.Ray(origin, direction);
    const hit = new THREE.Vector3();
    if (!ray.intersectPlane(floorPlane, hit)) return null;
    const [x0, z0, x1, z1] = world.bounds;
    if (hit.x < x0 || hit.x > x1 || hit.z < z0 || hit.z > z1) return null;
    return { x: hit.x, z: hit.z };
  }

  function relabel() {
    for (const { label, lines } of labels) label.update(lines());
    for (const a of avatars.values()) a.relabel();
  }

  // "Walk to" (features/orient): the route as a band on the floor, [{x, z}, ...] from
  // the avatar through each waypoint, with a ring at its end; null hides it.
  const routeMaterial = new THREE.MeshBasicMaterial({ color: ROUTE_COLOR, transparent: true, opacity: 0.85, depthWrite: false, side: THREE.DoubleSide });
  const routeGroup = new THREE.Group();
  scene.add(routeGroup);
  function showRoute(points) {
    for (const m of routeGroup.children) m.geometry.dispose();
    routeGroup.clear();
    if (!points || points.length < 2) return;
    const y = (p) => floorHeight(world, p.x, p.z) + 0.04;
    const pos = [];
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1], b = points[i];
      const len = Math.hypot(b.x - a.x, b.z - a.z);
      if (len < 1e-3) continue;
      const nx = (-(b.z - a.z) / len) * 0.2, nz = ((b.x - a.x) / len) * 0.2;
      const ya = y(a), yb = y(b);
      pos.push(a.x + nx, ya, a.z + nz, a.x - nx, ya, a.z - nz, b.x + nx, yb, b.z + nz,
        b.x + nx, yb, b.z + nz, a.x - nx, ya, a.z - nz, b.x - nx, yb, b.z - nz);
    }
    const band = new THREE.BufferGeometry();
    band.setAttribute('position', new THREE.Float32BufferAttribute(pos, 3));
    const end = points.at(-1);
    const ring = new THREE.Mesh(new THREE.RingGeometry(0.35, 0.55, 24).rotateX(-Math.PI / 2), routeMaterial);
    ring.position.set(end.x, y(end), end.z);
    routeGroup.add(new THREE.Mesh(band, routeMaterial), ring);
  }

  let last = null;
  function start(onFrame) {
    renderer.setAnimationLoop(() => {
      const nowS = performance.now() / 1000;
      if (last !== null && nowS - last < minFrameS && !renderer.xr.isPresenting) return;
      const dt = last === null ? 0 : Math.min(0.1, nowS - last);
      last = nowS;
      onFrame(nowS, dt);
      for (const a of avatars.values()) a.spin(dt);
      updateCamera(dt);
      renderer.render(scene, camera);
    });
  }

  return {
    kind: '3d', canvas, renderer, scene, camera, rig,
    setWorld, addAvatar, removeAvatar, clearAvatars, setPose, follow, pick, pickRay, relabel, start,
    setSelfVisible(visible, id) { const a = avatars.get(id); if (a) a.group.visible = visible; },
    showRoute, routeShown: () => routeGroup.children.length > 0,
  };
}

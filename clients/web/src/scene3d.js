// The 3D view (three.js): the hall built from the world map, avatars, and a
// third-person camera following the local avatar. Same interface as view2d.js:
//
//   const view = createView3d(canvas);
//   view.setWorld(world); view.addAvatar(entity, isSelf); view.setPose(id, x, z, yaw);
//   view.follow(x, z, yaw); view.pick(clientX, clientY) -> {x, z} | null
//   view.start((nowS, dt) => { ...update poses... });  view.relabel();
//   view.showRoute([{x, z}, ...] | null); view.routeShown() -> bool   (a walk's route on the floor)
//   view.setQuality('high' | 'low'); view.quality()   (shadows on or off)
//   view.hallInfo(), view.hitsWall(x0, z0, x1, z1, y), view.hallDrawCalls()   (the hall, for tests)
//   view.setSpeaking(id, on)   (a ring round the head, 'Speaking' on the tag; view2d: a ring)
//   view.drawCalls(), view.avatarCount(), view.avatarStats(), view.avatarDebug(id)   (crowd.js, for tests)

import * as THREE from 'three';
import { Avatar } from './avatars.js';
import { Crowd } from './crowd.js';
import { makeLabel } from './labels.js';
import { buildHall, fitSun } from './hall3d.js';
import { floorHeight } from './world.js';

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

/**
 * options.quality: 'high' (soft shadows) or 'low' (none); default 'low' on a
 * CPU renderer, else 'high'. view.setQuality(q) changes it.
 * options.software: a CPU renderer; draw at lower resolution, without
 * antialiasing and at most SOFTWARE_FPS frames a second, so the page (and
 * typing in it) stays responsive.
 */
export function createView3d(canvas, { software = false, quality = null } = {}) {
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: !software, powerPreference: 'low-power' });
  renderer.setPixelRatio(software ? 0.5 : Math.min(globalThis.devicePixelRatio || 1, 2));
  const minFrameS = software ? 1 / SOFTWARE_FPS : 0;
  renderer.xr.enabled = true;
  // Soft shadows: three r187 folded PCFSoftShadowMap into PCFShadowMap (a disc of
  // samples, sun.shadow.radius wide); asking for PCFSoftShadowMap only warns.
  renderer.shadowMap.type = THREE.PCFShadowMap;

  // Daylight: a sky/ground hemisphere and a sun from the south-west whose shadow
  // camera is fitted to the world (hall3d.js fitSun) when it arrives.
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xdfe7ef);
  scene.add(new THREE.HemisphereLight(0xf4f7ff, 0x8d8d80, 1.9));
  const sun = new THREE.DirectionalLight(0xfff4e0, 2.0);
  sun.position.set(-20, 40, 25);
  sun.shadow.mapSize.set(software ? 1024 : 2048, software ? 1024 : 2048);
  scene.add(sun, sun.target);

  // Quality: 'high' draws shadows, 'low' does not (the default on CPU renderers).
  let currentQuality = null;
  function setQuality(q) {
    const next = q === 'high' || q === 'low' ? q : (software ? 'low' : 'high');
    if (next === currentQuality) return currentQuality;
    currentQuality = next;
    renderer.shadowMap.enabled = next === 'high';
    sun.castShadow = next === 'high';
    // Materials compile with or without shadow maps: recompile them.
    scene.traverse((o) => {
      for (const m of [o.material].flat()) if (m) m.needsUpdate = true;
    });
    return currentQuality;
  }
  setQuality(quality);

  const camera = new THREE.PerspectiveCamera(60, 1, 0.1, 400);
  // The rig carries the camera; in VR the headset pose is relative to it.
  const rig = new THREE.Group();
  rig.add(camera);
  scene.add(rig);
  camera.position.set(0, 60, 70);
  camera.lookAt(0, 0, 0);

  const worldGroup = new THREE.Group();
  scene.add(worldGroup);
  // Avatars: their state (avatars.js), drawn as one crowd of instanced meshes (crowd.js).
  const crowd = new Crowd(scene, { software, reducedMotion: () => Boolean(REDUCED_MOTION?.matches) });
  const avatars = crowd.avatars;
  let drawCalls = 0;
  let frameMs = 0;
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

  // The hall itself is hall3d.js's: floor, walls with doorways, desks, kiosks, stage and seats.
  let hall = null;
  function setWorld(w) {
    world = w;
    for (const { label } of labels.splice(0)) label.dispose();
    worldGroup.traverse((o) => { o.geometry?.dispose(); o.material?.dispose?.(); });
    worldGroup.clear();
    hall = buildHall(worldGroup, w, { addLabel, focus: () => followed });
    fitSun(sun, w);
  }

  function addAvatar(entity, isSelf = false) {
    removeAvatar(entity.id);
    const a = crowd.add(new Avatar(entity, isSelf));
    setPose(entity.id, entity.x, entity.z, entity.yaw);
    a.px = a.x; a.pz = a.z; // arriving is not walking
    return a;
  }

  function removeAvatar(id) {
    crowd.remove(id);
  }

  function clearAvatars() {
    crowd.clear();
  }

  function setPose(id, x, z, yaw) {
    avatars.get(id)?.setPose(x, floorHeight(world, x, z), z, yaw);
  }

  function follow(x, z, yaw) {
    followed = { x, z, yaw };
  }

  // A fixed camera (the screenshot references: tests/web/test_scene_references.py), or null to follow.
  let viewpoint = null;
  function setViewpoint(from, at) {
    viewpoint = from && at ? { from: new THREE.Vector3(...from), at: new THREE.Vector3(...at) } : null;
  }

  function updateCamera(dt) {
    if (viewpoint && !renderer.xr.isPresenting) {
      rig.position.set(0, 0, 0);
      rig.rotation.set(0, 0, 0);
      camera.position.copy(viewpoint.from);
      camera.lookAt(viewpoint.at);
      return;
    }
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
    crowd.relabel();
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
      const t0 = performance.now();
      onFrame(nowS, dt);
      updateCamera(dt);
      crowd.update(nowS, dt, camera);
      renderer.render(scene, camera);
      drawCalls = renderer.info.render.calls;
      frameMs += (performance.now() - t0 - frameMs) * 0.1; // the page's own time per frame, smoothed
    });
  }

  return {
    kind: '3d', canvas, renderer, scene, camera, rig,
    setWorld, addAvatar, removeAvatar, clearAvatars, setPose, follow, pick, pickRay, relabel, start,
    setSelfVisible(visible, id) { crowd.setVisible(id, visible); },
    /** Someone's voice is heard (on) or not: a ring around their head and a line on their tag. */
    setSpeaking(id, on) { crowd.setSpeaking(id, Boolean(on)); },
    /** The last frame's draw calls (renderer.info.render.calls), and the avatars held. */
    drawCalls: () => drawCalls,
    avatarCount: () => avatars.size,
    avatarStats: () => ({ ...crowd.stats(), drawCalls, frameMs }),
    avatarDebug: (id) => crowd.debug(id),
    showRoute, routeShown: () => routeGroup.children.length > 0,
    /** 'high' (shadows) or 'low'; setQuality returns the quality now in use. */
    setQuality, quality: () => currentQuality,
    /** The hall as built (hall3d.js info()): objects, walls, doorways, seats, meshes. */
    hallInfo: () => hall?.info() ?? null,
    hitsWall: (...a) => Boolean(hall?.hitsWall(...a)),
    /** Draw calls of the hall alone (everything else hidden for one render): a count for tests. */
    hallDrawCalls() {
      const hidden = scene.children.filter((o) => o !== worldGroup && !o.isLight && o.visible);
      for (const o of hidden) o.visible = false;
      renderer.render(scene, camera);
      const calls = renderer.info.render.calls;
      for (const o of hidden) o.visible = true;
      return calls;
    },
    setViewpoint,
  };
}

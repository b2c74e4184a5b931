// WebXR: an "Enter VR" button (shown only when immersive-vr is supported) and
// teleport locomotion. A controller's ray shows where it points on the floor;
// pressing select walks the avatar there at walking speed, so the server sees an
// ordinary sequence of moves (it clamps anything faster).
//
//   setupXR({ view, button, onTeleport: (x, z) => avatar.walkTo(x, z), onPresenting });
//
// Features in VR use `xrHub` (a feature's in-world panel, its buttons):
//
//   import { xrHub } from '../../xr.js';
//   xrHub.onPresenting((on) => ...);        // a VR session started (true) or ended; returns off()
//   xrHub.rig, xrHub.scene, xrHub.camera    // set once the 3D view offers VR, else null;
//                                           // the rig's space is the headset's reference space
//   xrHub.presenting                        // in a VR session now
//   xrHub.head()                            // {position (rig space), yaw} once the headset pose
//                                           // is known in this session, else null
//   const remove = xrHub.addInteractive(mesh, { onSelect(hit), onHover(on) });
//
// A controller's (or a transient pointer's) select whose ray hits a registered,
// visible object calls that object's onSelect ({object, point, distance,
// controller}) instead of teleporting; the nearest hit wins. While a ray rests on
// one, onHover(true) is called (onHover(false) when it leaves), the ray ends
// there and the floor marker is not shown for it.

import * as THREE from 'three';
import { t } from './core/i18n.js';

const RAY_LENGTH = 8;

/** Is `object` shown: in a scene, it and every parent visible? */
function shown(object) {
  for (let o = object; o; o = o.parent) {
    if (!o.visible) return false;
    if (o.isScene) return true;
  }
  return false;
}

class XRHub {
  constructor() {
    this.scene = null;
    this.rig = null;
    this.camera = null;
    this.presenting = false;
    this.frames = 0; // frames drawn in this session
    this.interactive = new Map(); // object -> {onSelect, onHover}
    this.hovered = new Set(); // objects a ray rests on
    this.listeners = new Set();
  }

  /** Call fn(presenting) when a VR session starts or ends; returns off(). */
  onPresenting(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Make `object` selectable with a controller's ray; returns remove(). */
  addInteractive(object, { onSelect, onHover } = {}) {
    this.interactive.set(object, { onSelect, onHover });
    return () => {
      const entry = this.interactive.get(object);
      this.interactive.delete(object);
      if (this.hovered.delete(object)) entry?.onHover?.(false);
    };
  }

  /** The headset's pose in rig space, once known in this session; else null. */
  head() {
    if (!this.presenting || this.frames < 2 || !this.camera) return null;
    const forward = new THREE.Vector3(0, 0, -1).applyQuaternion(this.camera.quaternion);
    return { position: this.camera.position.clone(), yaw: Math.atan2(-forward.x, -forward.z) };
  }

  /** The nearest shown interactive object on the ray: {object, point, distance}, or null. */
  hit(raycaster) {
    const targets = [...this.interactive.keys()].filter(shown);
    if (!targets.length) return null;
    const [first] = raycaster.intersectObjects(targets, false);
    return first ? { object: first.object, point: first.point, distance: first.distance } : null;
  }

  /** Tell the objects rays now rest on (and those they left). */
  setHovered(objects) {
    for (const o of [...this.hovered]) {
      if (objects.has(o)) continue;
      this.hovered.delete(o);
      this.interactive.get(o)?.onHover?.(false);
    }
    for (const o of objects) {
      if (this.hovered.has(o) || !this.interactive.has(o)) continue;
      this.hovered.add(o);
      this.interactive.get(o).onHover?.(true);
    }
  }

  setPresenting(on) {
    this.presenting = on;
    this.frames = 0;
    if (!on) this.setHovered(new Set());
    for (const fn of [...this.listeners]) fn(on);
  }
}

/** The page's one hub: features register their VR objects here. */
export const xrHub = new XRHub();

/** Is immersive VR available? Never throws. */
export async function vrSupported() {
  try {
    return Boolean(await globalThis.navigator?.xr?.isSessionSupported?.('immersive-vr'));
  } catch {
    return false;
  }
}

export async function setupXR({ view, button, onTeleport, onPresenting }) {
  if (view.kind !== '3d' || !(await vrSupported())) return null;
  const { renderer, scene, rig, camera } = view;
  let session = null;
  Object.assign(xrHub, { scene, rig, camera });

  const marker = new THREE.Mesh(
    new THREE.RingGeometry(0.25, 0.35, 32).rotateX(-Math.PI / 2),
    new THREE.MeshBasicMaterial({ color: 0x22c55e }),
  );
  marker.visible = false;
  scene.add(marker);

  const raycaster = new THREE.Raycaster();
  const rotation = new THREE.Matrix4();
  /** Point the raycaster along a controller's target ray. */
  function aimRay(controller) {
    controller.updateMatrixWorld();
    raycaster.ray.origin.setFromMatrixPosition(controller.matrixWorld);
    rotation.extractRotation(controller.matrixWorld);
    raycaster.ray.direction.set(0, 0, -1).applyMatrix4(rotation).normalize();
    return raycaster.ray;
  }
  function aim(controller) {
    const ray = aimRay(controller);
    return view.pickRay(ray.origin, ray.direction);
  }

  const rayGeometry = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(0, 0, 0), new THREE.Vector3(0, 0, -1)]);
  const controllers = [0, 1].map((i) => {
    const c = renderer.xr.getController(i);
    const line = new THREE.Line(rayGeometry, new THREE.LineBasicMaterial({ color: 0xffffff }));
    line.scale.z = RAY_LENGTH;
    c.add(line);
    c.userData.ray = line;
    c.addEventListener('select', () => {
      aimRay(c);
      const target = xrHub.hit(raycaster);
      if (target) {
        xrHub.interactive.get(target.object)?.onSelect?.({ ...target, controller: c });
        return;
      }
      const hit = aim(c);
      if (hit) onTeleport(hit.x, hit.z);
    });
    rig.add(c);
    return c;
  });

  renderer.xr.addEventListener('sessionstart', () => {
    button.textContent = t('vr.exit');
    onPresenting?.(true);
    xrHub.setPresenting(true);
  });
  renderer.xr.addEventListener('sessionend', () => {
    session = null;
    marker.visible = false;
    button.textContent = t('vr.enter');
    onPresenting?.(false);
    xrHub.setPresenting(false);
  });

  button.hidden = false;
  button.textContent = t('vr.enter');
  button.addEventListener('click', async () => {
    if (session) {
      await session.end();
      return;
    }
    try {
      session = await navigator.xr.requestSession('immersive-vr', { optionalFeatures: ['local-floor', 'bounded-floor'] });
      renderer.xr.setReferenceSpaceType('local-floor');
      await renderer.xr.setSession(session);
    } catch (err) {
      session = null;
      console.warn('servicepoint: could not start VR', err);
    }
  });

  return {
    /** Call each frame: the rays end on the objects they hit; the floor marker under the
     *  first controller that aims at the floor and at no object. */
    update() {
      if (!renderer.xr.isPresenting) return;
      xrHub.frames += 1;
      marker.visible = false;
      const hovered = new Set();
      for (const c of controllers) {
        aimRay(c);
        const target = xrHub.hit(raycaster);
        c.userData.ray.scale.z = target ? target.distance : RAY_LENGTH;
        if (target) {
          hovered.add(target.object);
          continue;
        }
        const hit = marker.visible ? null : aim(c);
        if (hit) {
          marker.position.set(hit.x, 0.02, hit.z);
          marker.visible = true;
        }
      }
      xrHub.setHovered(hovered);
    },
    relabel() {
      button.textContent = t(session ? 'vr.exit' : 'vr.enter');
    },
  };
}

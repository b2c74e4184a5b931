// WebXR: an "Enter VR" button (shown only when immersive-vr is supported) and
// teleport locomotion. A controller's ray shows where it points on the floor;
// pressing select walks the avatar there at walking speed, so the server sees an
// ordinary sequence of moves (it clamps anything faster).
//
//   setupXR({ view, button, onTeleport: (x, z) => avatar.walkTo(x, z), onPresenting });

import * as THREE from 'three';
import { t } from './core/i18n.js';

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
  const { renderer, scene, rig } = view;
  let session = null;

  const marker = new THREE.Mesh(
    new THREE.RingGeometry(0.25, 0.35, 32).rotateX(-Math.PI / 2),
    new THREE.MeshBasicMaterial({ color: 0x22c55e }),
  );
  marker.visible = false;
  scene.add(marker);

  const rayGeometry = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(0, 0, 0), new THREE.Vector3(0, 0, -1)]);
  const controllers = [0, 1].map((i) => {
    const c = renderer.xr.getController(i);
    const line = new THREE.Line(rayGeometry, new THREE.LineBasicMaterial({ color: 0xffffff }));
    line.scale.z = 8;
    c.add(line);
    c.addEventListener('select', () => {
      const hit = aim(c);
      if (hit) onTeleport(hit.x, hit.z);
    });
    rig.add(c);
    return c;
  });

  const origin = new THREE.Vector3();
  const direction = new THREE.Vector3();
  const rotation = new THREE.Matrix4();
  function aim(controller) {
    controller.updateMatrixWorld();
    origin.setFromMatrixPosition(controller.matrixWorld);
    rotation.extractRotation(controller.matrixWorld);
    direction.set(0, 0, -1).applyMatrix4(rotation).normalize();
    return view.pickRay(origin, direction);
  }

  // Show where the first controller that hits the floor is pointing.
  renderer.xr.addEventListener('sessionstart', () => {
    button.textContent = t('vr.exit');
    onPresenting?.(true);
  });
  renderer.xr.addEventListener('sessionend', () => {
    session = null;
    marker.visible = false;
    button.textContent = t('vr.enter');
    onPresenting?.(false);
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
    /** Call each frame: moves the floor marker under the controllers' aim. */
    update() {
      if (!renderer.xr.isPresenting) return;
      marker.visible = false;
      for (const c of controllers) {
        const hit = aim(c);
        if (hit) {
          marker.position.set(hit.x, 0.02, hit.z);
          marker.visible = true;
          break;
        }
      }
    },
    relabel() {
      button.textContent = t(session ? 'vr.exit' : 'vr.enter');
    },
  };
}

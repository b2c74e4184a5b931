// In-world panels for VR drawn on a canvas: what the features' panels share
// (features/desks/xr-panel.js, events/xr-panel.js, events/xr-consent.js,
// training/xr-panel.js). Text is cut to width with `fitText` (labels.js).
//
//   const mesh = canvasPlane(canvas);            // a plane PX_PER_M pixels to the metre
//   mesh.material.map = canvasTexture(redrawn);  // after drawing again
//   const { position, yaw } = poseBeforeHead(xrHub.head(), 1.3, 0.35);
//   pose = standBeforeHead(group, pose, pose ? null : xrHub.head(), {distance, below, tilt});

import * as THREE from 'three';

export const PX_PER_M = 1000; // canvas pixels per metre of panel

/** A texture of `canvas`, sharp up close (no mipmaps: panels are read at arm's length). */
export function canvasTexture(canvas) {
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.minFilter = THREE.LinearFilter;
  tex.generateMipmaps = false;
  return tex;
}

/** A plane showing `canvas`, sized by PX_PER_M. */
export function canvasPlane(canvas, { toneMapped = false } = {}) {
  return new THREE.Mesh(
    new THREE.PlaneGeometry(canvas.width / PX_PER_M, canvas.height / PX_PER_M),
    new THREE.MeshBasicMaterial({ map: canvasTexture(canvas), transparent: true, toneMapped }),
  );
}

/** Where a panel goes: `distance` m ahead of the head ({position, yaw}) and `below` m under the eyes. */
export function poseBeforeHead(head, distance, below) {
  const position = new THREE.Vector3(
    head.position.x - Math.sin(head.yaw) * distance,
    head.position.y - below,
    head.position.z - Math.cos(head.yaw) * distance,
  );
  return { position, yaw: head.yaw };
}

/**
 * Show `group` at `pose`, or, with no pose yet, `distance` m before `head` and
 * `below` m under the eyes; tilted back by `tilt`. Returns the pose it stands at
 * (null while there is neither a pose nor a head: the group stays as it was).
 */
export function standBeforeHead(group, pose, head, { distance, below, tilt }) {
  const at = pose ?? (head ? poseBeforeHead(head, distance, below) : null);
  if (!at) return null;
  group.position.copy(at.position);
  group.rotation.set(tilt, at.yaw, 0, 'YXZ');
  group.visible = true;
  return at;
}

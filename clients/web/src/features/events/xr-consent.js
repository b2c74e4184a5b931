// The invitation to speak inside a VR session: the DOM dialog (consent.js) cannot
// be seen in an immersive session, so while one runs the same question floats in
// front of the headset: the heading, the text and the note, and two buttons,
// "Accept and open my microphone" and "Decline", selectable with a controller's
// ray (xrHub.addInteractive). Either answer closes the DOM dialog too, and only
// "Accept" opens the microphone, as on the page.
//
//   const xr = createXrConsent({ onAnswer(accept) });
//   xr.show({ heading, text, note, accept, decline });   // strings already translated
//   xr.hide();
//   xr.state() -> {visible, buttons: ['accept', 'decline'], hovered: [id],
//                  at: [{id, at, normal}] (rig space: where a controller aims)}

import * as THREE from 'three';
import { PX_PER_M, canvasPlane, canvasTexture } from '../../xr-canvas.js';
import { xrHub } from '../../xr.js';

const W = 900;
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';
const DISTANCE = 1.2;
const BELOW_EYES = 0.25;

function wrap(ctx, text, max) {
  const words = String(text).split(/(\s+)/);
  const lines = [];
  let line = '';
  for (const w of words) {
    const next = line + w;
    if (ctx.measureText(next).width > max && line.trim()) {
      lines.push(line.trim());
      line = w.trimStart();
    } else {
      line = next;
    }
  }
  if (line.trim()) lines.push(line.trim());
  return lines;
}

function drawButton(label, primary, hovered) {
  const c = document.createElement('canvas');
  c.width = 420;
  c.height = 110;
  const ctx = c.getContext('2d');
  ctx.fillStyle = primary ? (hovered ? '#0369a1' : '#0c4a6e') : (hovered ? '#475569' : '#334155');
  ctx.beginPath();
  ctx.roundRect(0, 0, c.width, c.height, 16);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.font = `600 30px ${FONT}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const lines = wrap(ctx, label, c.width - 40).slice(0, 2);
  lines.forEach((l, i) => ctx.fillText(l, c.width / 2, c.height / 2 + (i - (lines.length - 1) / 2) * 34));
  return c;
}

export function createXrConsent({ onAnswer }) {
  let group = null;
  let info = null;
  const removers = [];
  const meshes = new Map(); // id -> button mesh
  const hovered = new Set();

  function clear() {
    for (const off of removers.splice(0)) off();
    meshes.clear();
    hovered.clear();
    if (!group) return;
    group.parent?.remove(group);
    group.traverse((o) => { o.geometry?.dispose(); o.material?.map?.dispose?.(); o.material?.dispose?.(); });
    group = null;
  }

  function build() {
    clear();
    if (!info || !xrHub.presenting || !xrHub.rig) return;
    const c = document.createElement('canvas');
    c.width = W;
    const measure = c.getContext('2d');
    measure.font = `400 30px ${FONT}`;
    const body = [...wrap(measure, info.text, W - 80), '', ...wrap(measure, info.note, W - 80)];
    c.height = 120 + body.length * 40 + 170;
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#0b1220';
    ctx.beginPath();
    ctx.roundRect(0, 0, c.width, c.height, 24);
    ctx.fill();
    ctx.strokeStyle = '#a78bfa';
    ctx.lineWidth = 6;
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    ctx.font = `700 44px ${FONT}`;
    ctx.textBaseline = 'top';
    ctx.fillText(info.heading, 40, 36);
    ctx.font = `400 30px ${FONT}`;
    ctx.fillStyle = '#e2e8f0';
    body.forEach((l, i) => ctx.fillText(l, 40, 110 + i * 40));
    group = new THREE.Group();
    group.name = 'events-consent-xr';
    const plate = canvasPlane(c, { toneMapped: true });
    group.add(plate);
    const buttons = [['accept', info.accept, true, -0.22], ['decline', info.decline, false, 0.22]];
    for (const [id, label, primary, x] of buttons) {
      const mesh = canvasPlane(drawButton(label, primary, false), { toneMapped: true });
      mesh.name = `events-consent-${id}`;
      mesh.position.set(x, -c.height / PX_PER_M / 2 + 0.09, 0.002);
      group.add(mesh);
      meshes.set(id, mesh);
      removers.push(xrHub.addInteractive(mesh, {
        onSelect: () => onAnswer(id === 'accept'),
        onHover: (on) => {
          if (on) hovered.add(id); else hovered.delete(id);
          mesh.material.map.dispose();
          mesh.material.map = canvasTexture(drawButton(label, primary, on));
          mesh.material.needsUpdate = true;
        },
      }));
    }
    // In front of where the headset looks (rig space), a little below the eyes.
    const head = xrHub.head();
    const yaw = head?.yaw ?? 0;
    const base = head?.position ?? new THREE.Vector3(0, 1.5, 0);
    group.position.set(base.x - Math.sin(yaw) * DISTANCE, base.y - BELOW_EYES, base.z - Math.cos(yaw) * DISTANCE);
    group.rotation.y = yaw;
    xrHub.rig.add(group);
  }

  xrHub.onPresenting((on) => {
    if (on && info) setTimeout(build, 300); // once the headset's pose is known
    else clear();
  });

  return {
    show(next) {
      info = next;
      build();
    },
    hide() {
      info = null;
      clear();
    },
    state() {
      const rig = xrHub.rig;
      if (group) group.updateMatrixWorld(true);
      const at = [...meshes].map(([id, mesh]) => {
        const q = rig.getWorldQuaternion(new THREE.Quaternion()).invert().multiply(mesh.getWorldQuaternion(new THREE.Quaternion()));
        return {
          id,
          at: rig.worldToLocal(mesh.getWorldPosition(new THREE.Vector3())).toArray(),
          normal: new THREE.Vector3(0, 0, 1).applyQuaternion(q).toArray(),
        };
      });
      return { visible: Boolean(group), buttons: group ? ['accept', 'decline'] : [], hovered: [...hovered], at };
    },
  };
}

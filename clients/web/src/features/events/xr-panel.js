// The event's controls in VR: the DOM event panel (attend.js) cannot be seen in an
// immersive session, so while one runs a small panel floats in front of the user
// (in the rig's space, placed where the headset looks when the panel appears,
// a little below the eyes and lower than the consent prompt, xr-consent.js):
//
// * attending: the event's title and the room ("Overflow room 2 of 3"), "Raise my
//   hand" / "Lower my hand" (event_hand; not while on stage or as a host) and
//   "Leave" (event_leave);
// * not attending, an event live, and standing in the auditorium or near the lobby
//   board: its title and "Join" (event_join, as the DOM's "Join the event").
//
// While the consent prompt floats (xr-consent.js) the panel is put away, so a ray
// meant for "Accept" or "Decline" cannot land on it. The panel never touches the
// microphone: only the consent answer does (index.js).
//
//   const xr = createXrEventPanel({ hand(up), leave(), join(event) });
//   xr.render({ attending: {event, instance, counts, host} | null, you, speaking,
//               live: event | null, consent: bool });   // after every change
//   xr.state() -> {visible, mode: 'attend' | 'join' | null, title, room,
//                  buttons: [{id, label, at, normal}] (rig space), hovered: [id]}
//
// Button ids: 'hand' (raise or lower), 'leave', 'join'.

import * as THREE from 'three';
import { fitText } from '../../labels.js';
import { PX_PER_M, canvasPlane, canvasTexture, standBeforeHead } from '../../xr-canvas.js';
import { getLanguage, t } from '../../core/i18n.js';
import { xrHub } from '../../xr.js';
import { eventTitle, instanceLabel } from './format.js';

const W = 760;
const PAD = 32;
const BTN_H = 96;
const GAP = 16;
const DISTANCE = 1.3;
const BELOW_EYES = 0.45; // below the consent prompt (0.25)
const TILT = -0.25;
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';

function drawButton(label, primary, hovered, w) {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = BTN_H;
  const ctx = c.getContext('2d');
  ctx.fillStyle = primary ? (hovered ? '#14b8a6' : '#0f766e') : (hovered ? '#64748b' : '#334155');
  ctx.beginPath();
  ctx.roundRect(4, 4, w - 8, BTN_H - 8, 16);
  ctx.fill();
  if (hovered) {
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 6;
    ctx.stroke();
  }
  ctx.fillStyle = '#ffffff';
  ctx.font = `600 30px ${FONT}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(fitText(ctx, label, w - 40), w / 2, BTN_H / 2);
  return c;
}

export function createXrEventPanel({ hand, leave, join }) {
  let model = { attending: null, you: null, speaking: false, live: null, consent: false };
  let group = null;
  let builtKey = null;
  let removers = [];
  let buttons = []; // [{id, label, mesh}]
  const hovered = new Set();
  let pose = null; // {position, yaw} while the panel is up

  function mode() {
    if (!xrHub.presenting || !xrHub.rig || model.consent) return null;
    if (model.attending) return 'attend';
    return model.live ? 'join' : null;
  }

  function content(m) {
    if (m === 'attend') {
      const a = model.attending;
      const out = [];
      if (!a.host && !model.speaking) {
        const up = Boolean(model.you?.hand);
        out.push({ id: 'hand', label: t(up ? 'events.xr.lower_hand' : 'events.xr.raise_hand'), primary: !up });
      }
      out.push({ id: 'leave', label: t('events.xr.leave'), primary: false });
      return { title: eventTitle(a.event), room: instanceLabel(a.instance, a.counts), buttons: out };
    }
    return {
      title: eventTitle(model.live),
      room: t('events.xr.live'),
      buttons: [{ id: 'join', label: t('events.xr.join'), primary: true }],
    };
  }

  function press(id) {
    if (id === 'hand' && model.attending) hand(!model.you?.hand);
    else if (id === 'leave' && model.attending) leave();
    else if (id === 'join' && !model.attending && model.live) join(model.live);
  }

  function teardown() {
    for (const off of removers) off();
    removers = [];
    buttons = [];
    hovered.clear();
    if (group) {
      group.parent?.remove(group);
      group.traverse((o) => { o.geometry?.dispose(); o.material?.map?.dispose(); o.material?.dispose(); });
    }
    group = null;
    builtKey = null;
  }

  function build(m) {
    teardown();
    const c = content(m);
    const bw = Math.floor((W - PAD * 2 - GAP * (c.buttons.length - 1)) / c.buttons.length);
    const textH = 44 + 12 + 32;
    const height = PAD + textH + GAP + BTN_H + PAD;
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#0b1220';
    ctx.beginPath();
    ctx.roundRect(0, 0, W, height, 24);
    ctx.fill();
    ctx.strokeStyle = '#14b8a6';
    ctx.lineWidth = 4;
    ctx.stroke();
    ctx.textBaseline = 'top';
    ctx.fillStyle = '#ffffff';
    ctx.font = `700 40px ${FONT}`;
    ctx.fillText(fitText(ctx, c.title, W - PAD * 2), PAD, PAD);
    ctx.fillStyle = '#99f6e4';
    ctx.font = `500 30px ${FONT}`;
    ctx.fillText(fitText(ctx, c.room, W - PAD * 2), PAD, PAD + 56);

    group = new THREE.Group();
    group.name = 'events-xr-panel';
    const plate = canvasPlane(canvas);
    group.add(plate);
    removers.push(xrHub.addInteractive(plate, {})); // a select on the plate does nothing
    const toM = (px) => px / PX_PER_M;
    c.buttons.forEach((b, i) => {
      const mesh = canvasPlane(drawButton(b.label, b.primary, false, bw));
      mesh.name = `events-xr-${b.id}`;
      const cx = PAD + i * (bw + GAP) + bw / 2;
      const cy = PAD + textH + GAP + BTN_H / 2;
      mesh.position.set(toM(cx - W / 2), toM(height / 2 - cy), 0.002);
      mesh.renderOrder = 1;
      group.add(mesh);
      removers.push(xrHub.addInteractive(mesh, {
        onSelect: () => press(b.id),
        onHover: (on) => {
          if (on) hovered.add(b.id); else hovered.delete(b.id);
          mesh.material.map.dispose();
          mesh.material.map = canvasTexture(drawButton(b.label, b.primary, on, bw));
          mesh.material.needsUpdate = true;
        },
      }));
      buttons.push({ id: b.id, label: b.label, mesh });
    });
    group.visible = false;
    xrHub.rig.add(group);
    placeIfAble();
  }

  function placeIfAble() {
    if (!group) return;
    const head = pose ? null : xrHub.head();
    pose = standBeforeHead(group, pose, head, { distance: DISTANCE, below: BELOW_EYES, tilt: TILT });
  }

  function update() {
    const m = mode();
    if (!m) {
      teardown();
      pose = null; // it appears again where the user looks then
      return;
    }
    const c = content(m);
    const key = JSON.stringify([m, getLanguage(), c]);
    if (key !== builtKey) {
      build(m);
      builtKey = key;
    }
  }

  xrHub.onPresenting(() => {
    pose = null;
    update();
  });

  return {
    render(next) {
      model = { ...model, ...next };
      update();
    },
    tick() {
      if (group && !group.visible) placeIfAble();
    },
    state() {
      const shown = Boolean(group && group.visible);
      const rig = xrHub.rig;
      if (group) group.updateMatrixWorld(true);
      const local = (mesh) => {
        const p = rig.worldToLocal(mesh.getWorldPosition(new THREE.Vector3()));
        const q = rig.getWorldQuaternion(new THREE.Quaternion()).invert().multiply(mesh.getWorldQuaternion(new THREE.Quaternion()));
        return { at: p.toArray(), normal: new THREE.Vector3(0, 0, 1).applyQuaternion(q).toArray() };
      };
      const m = group ? mode() : null;
      const c = m ? content(m) : null;
      return {
        visible: shown,
        mode: m,
        title: c?.title ?? null,
        room: c?.room ?? null,
        buttons: shown ? buttons.map((b) => ({ id: b.id, label: b.label, ...local(b.mesh) })) : [],
        hovered: [...hovered],
      };
    },
  };
}

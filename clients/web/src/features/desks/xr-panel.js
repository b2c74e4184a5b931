// The desks in VR: the DOM panels (kiosk.js, ticket.js, callbar.js) cannot be seen
// inside an immersive session, so while one runs a panel floats in front of the
// user (in the rig's space, placed where the headset looks when it appears, a
// little below the eyes) showing what those panels show, one view at a time:
//
// * 'kiosk': standing at a desk's ticket kiosk (the kiosk the DOM opened): the
//   desk's services as buttons (`service:<id>` takes a ticket, as the form's
//   "Take a ticket" with that service) and the languages of service
//   (`lang:<code>`, the chosen one marked with a check);
// * 'ticket': the ticket's number, service, status, place and wait, and "Leave
//   the queue" (`leave`) while waiting, or "Close" (`dismiss`) once it is over;
// * 'called': "It's your turn — go to the <desk> desk", the countdown, "Walk me
//   there" (`walk`: walks there and answers, `respond`) and "I'm coming" (`coming`);
// * 'call': the desk call's members and the voice state (the voice plays in VR).
//
// It holds no state of its own about the queue: every frame it reads the DOM
// panels' objects and rebuilds when what it would show changed; every button
// calls the same method the DOM control does.
//
//   const xr = createDeskXrPanel({ service, ticket, called, callBar, selfId, shown });
//   xr.tick();     // every frame
//   xr.state();    // the test hook: {visible, mode, title, lines, error,
//                  //   buttons: [{id, label, selected, at, normal}] (rig space), hovered: [id]}

import * as THREE from 'three';
import { fitText } from '../../labels.js';
import { PX_PER_M, canvasPlane, canvasTexture, standBeforeHead } from '../../xr-canvas.js';
import { getLanguage, langName, localName, t } from '../../core/i18n.js';
import { deskById, deskName, serviceLabel } from '../../world.js';
import { xrHub } from '../../xr.js';
import { duration } from './duration.js';
import { ACTIVE } from './ticket.js';

const W = 900;
const PAD = 32;
const GAP = 14;
const BTN_H = 88;
const DISTANCE = 1.3;
const BELOW_EYES = 0.35;
const TILT = -0.2;
const LIFT = 0.002;
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';
const TITLE = { size: 40, weight: 700, color: '#99f6e4' };
const LINE = { size: 30, weight: 500, color: '#ffffff' };
const QUIET = { size: 26, weight: 500, color: '#cbd5e1' };
const ERROR = { size: 30, weight: 600, color: '#fecaca' };

/** `text` in lines of at most `max` pixels (words, else characters: Japanese has no spaces). */
function wrap(ctx, text, max) {
  const lines = [];
  let line = '';
  for (const word of String(text ?? '').split(/(\s+)/)) {
    if (!word) continue;
    if (ctx.measureText(line + word).width <= max) { line += word; continue; }
    if (line.trim()) lines.push(line.trimEnd());
    line = '';
    if (/^\s+$/.test(word)) continue;
    for (const ch of Array.from(word)) {
      if (line && ctx.measureText(line + ch).width > max) { lines.push(line); line = ''; }
      line += ch;
    }
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines;
}

function drawButton(b, hovered, w) {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = BTN_H;
  const ctx = c.getContext('2d');
  const primary = b.primary || b.selected;
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
  // A chosen option says so in its label too, not only by colour.
  ctx.fillText(fitText(ctx, b.selected ? `✓ ${b.label}` : b.label, w - 32), w / 2, BTN_H / 2);
  return c;
}

/**
 * service: the ServicePanel (kiosk.js); ticket, called: TicketPanel, CalledPanel
 * (ticket.js); callBar: the CallBar; selfId() -> id; shown() -> the person takes
 * tickets here (in the hall, not staff).
 */
export function createDeskXrPanel({ service, ticket, called, callBar, selfId, shown }) {
  let group = null;
  let builtKey = null;
  let removers = [];
  let buttons = []; // [{id, label, selected, mesh}]
  const hovered = new Set();
  let pose = null; // {position, yaw} while the panel is up
  let view = null; // what is built: {mode, title, lines, error, buttons}

  function mode() {
    if (!xrHub.presenting || !xrHub.rig || !shown()) return null;
    if (callBar.active) return 'call';
    if (called.visible) return 'called';
    if (ticket.active) return 'ticket';
    if (service.kioskDesk && service.world) return 'kiosk';
    return ticket.visible ? 'ticket' : null;
  }

  const deskLabel = (id) => {
    const desk = deskById(service.world, id);
    return desk ? deskName(desk) : id;
  };

  /** What the mode shows: {title, lines: [{text, style}], error, buttons: [{id, label, primary, selected, row}]}. */
  function content(m) {
    if (m === 'kiosk') {
      const desk = deskById(service.world, service.kioskDesk);
      const langs = service.world.languages?.length ? service.world.languages : ['en'];
      const lang = service.lang.value;
      return {
        title: t('service.kiosk', { desk: deskName(desk) }),
        lines: [{ text: t('desks.xr.kiosk_hint'), style: QUIET }, { text: t('service.lang'), style: LINE }],
        error: service.error.textContent,
        buttons: [
          ...langs.map((code) => ({ id: `lang:${code}`, label: langName(code), selected: code === lang, small: true })),
          ...service.services().map((s) => ({ id: `service:${s.id}`, label: `${s.letter} ${localName(s.name)}`, primary: true, row: true })),
        ],
      };
    }
    if (m === 'ticket') {
      const tk = ticket.ticket;
      const lines = [
        { text: `${t('ticket.service')}: ${serviceLabel(service.world, tk.service)}`, style: LINE },
        { text: `${t('ticket.status')}: ${ticket.statusText()}`, style: LINE },
      ];
      if (tk.status === 'waiting') {
        lines.push({ text: `${t('ticket.position')}: ${t('ticket.place', { position: tk.position, ahead: Math.max(0, tk.position - 1) })}`, style: LINE });
        const wait = typeof tk.wait_s === 'number' ? `${t('ticket.wait')}: ${duration(tk.wait_s)}` : t('ticket.no_staff');
        lines.push({ text: wait, style: QUIET });
      }
      const out = [];
      if (tk.status === 'waiting' || tk.status === 'called') out.push({ id: 'leave', label: t('ticket.leave') });
      if (!ACTIVE.has(tk.status)) out.push({ id: 'dismiss', label: t('ticket.dismiss') });
      return { title: `${t('ticket.number')}: ${tk.ticket}`, lines, error: $text('ticket-error'), buttons: out };
    }
    if (m === 'called') {
      return {
        title: t('called.heading'),
        lines: [
          { text: t('desks.xr.called', { desk: called.deskLabel(), ticket: called.call.ticket }), style: LINE },
          { text: $text('called-countdown'), style: QUIET },
        ],
        error: $text('called-error'),
        buttons: [
          { id: 'walk', label: t('called.walk'), primary: true, small: true },
          { id: 'coming', label: t('called.coming'), small: true },
        ],
      };
    }
    const call = callBar.call;
    const me = selfId();
    return {
      title: t('call.heading', { desk: deskLabel(call.desk) }),
      lines: [
        { text: t('call.members'), style: LINE },
        ...call.members.map((p) => ({ text: `• ${p.id === me ? t('call.you', { name: p.name }) : p.name}`, style: LINE })),
        { text: $text('call-voice'), style: QUIET },
      ],
      error: $text('call-error'),
      buttons: [],
    };
  }

  function press(id) {
    const m = view?.mode;
    if (m === 'kiosk' && id.startsWith('lang:')) service.chooseLang(id.slice('lang:'.length));
    else if (m === 'kiosk' && id.startsWith('service:')) service.takeService(id.slice('service:'.length));
    else if (m === 'ticket' && id === 'leave') document.getElementById('ticket-leave').click();
    else if (m === 'ticket' && id === 'dismiss') document.getElementById('ticket-dismiss').click();
    else if (m === 'called' && id === 'walk') {
      // In VR one select both sets off and answers (the DOM offers the two apart).
      called.walkThere();
      called.respond();
    } else if (m === 'called' && id === 'coming') called.respond();
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
    view = null;
  }

  function build(m, c) {
    teardown();
    view = { mode: m, ...c };
    const inner = W - PAD * 2;
    const scratch = document.createElement('canvas').getContext('2d');
    // The text: the title, the lines (wrapped), the error.
    const ops = [];
    let y = PAD;
    const put = (text, style) => {
      scratch.font = `${style.weight} ${style.size}px ${FONT}`;
      for (const l of wrap(scratch, text, inner)) {
        ops.push({ text: l, y, style });
        y += style.size * 1.3;
      }
      y += 8;
    };
    put(c.title, TITLE);
    for (const l of c.lines) if (l.text) put(l.text, l.style);
    if (c.error) put(c.error, ERROR);
    // The buttons: small ones side by side (up to five a row), the others full rows.
    const at = []; // [button, x (left), y (top), w]
    const small = Math.floor((inner - GAP * 4) / 5);
    let x = 0;
    y += GAP;
    for (const b of c.buttons) {
      const w = b.row ? inner : b.small && c.buttons.filter((o) => o.small).length <= 2 ? Math.floor((inner - GAP) / 2) : small;
      if (x && (b.row || x + w > inner + 0.5)) { x = 0; y += BTN_H + GAP; }
      at.push([b, PAD + x, y, w]);
      x += w + GAP;
      if (b.row) { x = 0; y += BTN_H + GAP; }
    }
    if (x) y += BTN_H + GAP;
    const height = Math.ceil(y - GAP + PAD);

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
    for (const op of ops) {
      ctx.font = `${op.style.weight} ${op.style.size}px ${FONT}`;
      ctx.fillStyle = op.style.color;
      ctx.fillText(op.text, PAD, op.y);
    }

    group = new THREE.Group();
    group.name = 'desks-xr-panel';
    const plate = canvasPlane(canvas);
    group.add(plate);
    removers.push(xrHub.addInteractive(plate, {})); // a select on the plate does nothing
    const toM = (px) => px / PX_PER_M;
    for (const [b, left, top, w] of at) {
      const mesh = canvasPlane(drawButton(b, false, w));
      mesh.position.set(toM(left + w / 2 - W / 2), toM(height / 2 - top - BTN_H / 2), LIFT);
      mesh.renderOrder = 1;
      group.add(mesh);
      removers.push(xrHub.addInteractive(mesh, {
        onSelect: () => press(b.id),
        onHover: (on) => {
          if (on) hovered.add(b.id); else hovered.delete(b.id);
          mesh.material.map.dispose();
          mesh.material.map = canvasTexture(drawButton(b, on, w));
          mesh.material.needsUpdate = true;
        },
      }));
      buttons.push({ id: b.id, label: b.label, selected: Boolean(b.selected), mesh });
    }
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
      if (group) teardown();
      pose = null; // it appears again where the user looks then
      return;
    }
    // A new view (not a changed one) appears where the user looks now.
    if (view && view.mode !== m) pose = null;
    const c = content(m);
    const key = JSON.stringify([m, getLanguage(), c]);
    if (key !== builtKey) {
      build(m, c);
      builtKey = key;
    }
  }

  xrHub.onPresenting(() => {
    pose = null;
    update();
  });

  return {
    tick() {
      if (!xrHub.presenting && !group) return;
      update();
      if (group && !group.visible) placeIfAble();
    },
    state() {
      const visible = Boolean(group && group.visible);
      const rig = xrHub.rig;
      if (group) group.updateMatrixWorld(true);
      const local = (mesh) => {
        const p = rig.worldToLocal(mesh.getWorldPosition(new THREE.Vector3()));
        const q = rig.getWorldQuaternion(new THREE.Quaternion()).invert().multiply(mesh.getWorldQuaternion(new THREE.Quaternion()));
        return { at: p.toArray(), normal: new THREE.Vector3(0, 0, 1).applyQuaternion(q).toArray() };
      };
      return {
        visible,
        mode: view?.mode ?? null,
        title: view?.title ?? null,
        lines: view ? view.lines.map((l) => l.text).filter(Boolean) : [],
        error: view?.error || null,
        buttons: visible ? buttons.map((b) => ({ id: b.id, label: b.label, selected: b.selected, ...local(b.mesh) })) : [],
        hovered: [...hovered],
      };
    },
  };
}

function $text(id) {
  return document.getElementById(id)?.textContent ?? '';
}

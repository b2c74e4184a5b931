// The practice desk in VR: the DOM panel (index.js) cannot be seen inside an
// immersive session, so while one runs this shows the same run in the world: a
// panel in front of the user (placed where the headset looks when the panel
// appears, when a run starts and when the session does, a little below the eyes
// so the simulated citizen at the desk stays in view) with the citizen's line,
// its answers as buttons, "Repeat" and "Stop", and at the end the debrief: the
// score and the rubric's rows, and "Close". The panel moves with the user (it is
// in the rig's space).
//
// With no run, standing at a free practice desk (`offer()`, from index.js), the
// panel is the start view: the scenarios as buttons, the languages the chosen one
// offers (the citizen speaks it), and "Start", which sends what the DOM form does
// (`start({desk, scenario, lang})`). The chosen scenario and language are marked
// (the choice colour and a check). A refused start comes back as `error`, shown
// at the top. Its "Close" puts it away until the user walks off (or to another desk);
// closing a debrief at the desk shows it, to practise again.
//
// Everything is drawn on canvases with the DOM panel's strings; the buttons are
// registered with xrHub (xr.js): a controller's or transient pointer's select on
// one does what the DOM button does (the same `training_choice` and so on).
//
//   const xr = createXrPanel({ choose(id), repeat(), stop(), start({desk, scenario, lang}) -> sent,
//                              offer() -> {desk, name} | null });
//   xr.render({ run, line, debrief, ended, status, error,
//               scenarios: [{id, title, langs}] });        // after every DOM render
//   xr.tick();                                               // every frame
//   xr.state();   // the test hook: {visible, mode, text, error, buttons: [{id, label, selected,
//                 // at, normal}] (rig space), hovered: [id], score, rubric: [[name, points, max]],
//                 // start: {desk, scenario, lang} (the start view's choices) | null}
//
// The start view's button ids: `scenario:<id>`, `lang:<code>`, `start`.

import * as THREE from 'three';
import { PX_PER_M, canvasTexture } from '../../xr-canvas.js';
import { getLanguage, langName, t } from '../../core/i18n.js';
import { xrHub } from '../../xr.js';
import { fmtNumber, fmtScore } from './format.js';

const WIDTH = 1000; // the panel's width in pixels (1 m)
const PAD = 36; // the panel's margin
const GAP = 16; // between buttons
const INNER = WIDTH - PAD * 2;
const DISTANCE = 1.3; // metres in front of the eyes
const BELOW_EYES = 0.3; // metres below them
const TILT = -0.2; // radians: the top leans away, the panel faces the eyes
const LIFT = 0.002; // metres: buttons in front of the backplate
const FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';

const COLORS = {
  plate: 0x0b1220,
  text: '#ffffff',
  quiet: '#cbd5e1',
  heading: '#99f6e4',
  error: '#fecaca',
  choice: ['#0f766e', '#14b8a6'], // normal, pointed at
  secondary: ['#334155', '#64748b'],
};

let scratchCtx = null; // for measuring text (made on first use: node imports this module)
const measure = () => (scratchCtx ??= document.createElement('canvas').getContext('2d'));

/** `text` in lines of at most `width` pixels in the current font (words, else characters). */
function wrap(ctx, text, width) {
  const lines = [];
  for (const para of String(text ?? '').split('\n')) {
    let line = '';
    for (const word of para.split(/(\s+)/)) {
      if (!word) continue;
      const next = line + word;
      if (ctx.measureText(next).width <= width) { line = next; continue; }
      if (line.trim()) lines.push(line.trimEnd());
      line = '';
      if (/^\s+$/.test(word)) continue;
      // A word (or a sentence without spaces, as in Japanese) wider than the line.
      for (const ch of Array.from(word)) {
        if (ctx.measureText(line + ch).width > width && line) { lines.push(line); line = ''; }
        line += ch;
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

/** Lay out text items ({text, size, weight, color, gap} or {table}) in `width` px: ops and height. */
function layout(items, width) {
  const scratch = measure();
  const ops = [];
  let y = 0;
  for (const item of items) {
    if (item.table) {
      const { head, rows } = item.table;
      const size = 30;
      const fontOf = (i) => `${i === 0 ? 700 : 500} ${size}px ${FONT}`;
      // Each number column as wide as its widest cell (the headings: "At most", ...).
      let num = 120;
      for (const [i, row] of [head, ...rows].entries()) {
        scratch.font = fontOf(i);
        for (const cell of row.slice(1)) num = Math.max(num, scratch.measureText(cell).width + 28);
      }
      num = Math.min(num, width / 4);
      const nameW = width - num * 2;
      for (const [i, row] of [head, ...rows].entries()) {
        const font = fontOf(i);
        scratch.font = font;
        const names = wrap(scratch, row[0], nameW - 12);
        const h = names.length * size * 1.3 + 10;
        ops.push({ rule: true, y, width });
        names.forEach((l, k) => ops.push({ text: l, x: 0, y: y + 6 + k * size * 1.3, font, color: i === 0 ? COLORS.quiet : COLORS.text }));
        for (const [c, value] of [row[1], row[2]].entries()) {
          ops.push({ text: value, x: nameW + num * (c + 1), y: y + 6, font, color: i === 0 ? COLORS.quiet : COLORS.text, align: 'right' });
        }
        y += h;
      }
      y += 8;
      continue;
    }
    const size = item.size || 34;
    const font = `${item.weight || 500} ${size}px ${FONT}`;
    scratch.font = font;
    for (const l of wrap(scratch, item.text, width)) {
      ops.push({ text: l, x: 0, y, font, color: item.color || COLORS.text });
      y += size * 1.3;
    }
    y += item.gap ?? 10;
  }
  return { ops, height: Math.ceil(y) };
}

function drawOps(ctx, ops, dx, dy) {
  ctx.textBaseline = 'top';
  for (const op of ops) {
    if (op.rule) {
      ctx.fillStyle = 'rgba(203, 213, 225, 0.35)';
      ctx.fillRect(dx, dy + op.y, op.width, 2);
      continue;
    }
    ctx.font = op.font;
    ctx.fillStyle = op.color;
    ctx.textAlign = op.align || 'left';
    ctx.fillText(op.text, dx + op.x, dy + op.y);
  }
}

/** A plane `w` × `h` pixels showing what draw(ctx) paints. */
function paintedPlane(w, h, draw) {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  draw(canvas.getContext('2d'));
  const material = new THREE.MeshBasicMaterial({ map: canvasTexture(canvas), transparent: true, toneMapped: false });
  const mesh = new THREE.Mesh(new THREE.PlaneGeometry(w / PX_PER_M, h / PX_PER_M), material);
  mesh.userData.size = { w, h };
  mesh.userData.redraw = (paint) => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    paint(c.getContext('2d'));
    material.map.dispose();
    material.map = canvasTexture(c);
    material.needsUpdate = true;
  };
  return mesh;
}

/** A button's picture: its label on a rounded rectangle, brighter and outlined when pointed at. */
function paintButton(ctx, { kind, w, h, ops, pad }, hovered) {
  const [normal, bright] = COLORS[kind] || COLORS.secondary;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = hovered ? bright : normal;
  ctx.beginPath();
  ctx.roundRect(4, 4, w - 8, h - 8, 18);
  ctx.fill();
  if (hovered) {
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 6;
    ctx.stroke();
  }
  drawOps(ctx, ops, 28, pad);
}

function makeButton(spec) {
  const w = spec.width;
  const size = spec.size || 34;
  const pad = Math.round(size * 0.65);
  // A chosen option (the start view) says so in its label too, not only by colour.
  const label = spec.selected ? `✓ ${spec.label}` : spec.label;
  const { ops, height } = layout([{ text: label, size, weight: 600, gap: 0 }], w - 56);
  const h = height + pad * 2;
  const look = { ...spec, w, h, ops, pad };
  const mesh = paintedPlane(w, h, (ctx) => paintButton(ctx, look, false));
  mesh.userData.button = spec;
  mesh.userData.hover = (on) => mesh.userData.redraw((ctx) => paintButton(ctx, look, on));
  return mesh;
}

export function createXrPanel({ choose, repeat, stop, start, offer = () => null }) {
  let model = { run: null, line: null, debrief: null, ended: false, status: '', error: '', scenarios: [] };
  let group = null; // the built panel (in the rig), or null
  let builtKey = null;
  let removers = []; // xrHub registrations of the built panel
  let buttons = []; // the built button meshes
  const hovered = new Set(); // button ids pointed at
  let placed = false;
  let lastRun = null;
  let closedFor = null; // the debrief (or 'ended') the user closed
  let sent = false; // an answer (or Start) was chosen; wait for the server
  let offered = null; // the start view's practice desk: {desk, name}, or null
  const pick = { scenario: null, lang: null }; // the start view's choices
  let closedStart = null; // the desk whose start view the user closed (until they walk away)

  function mode() {
    if (model.debrief) {
      if (model.debrief !== closedFor) return 'debrief';
    } else if (model.run) {
      return model.line ? 'line' : 'waiting';
    } else if (model.ended && closedFor !== 'ended') {
      return 'ended';
    }
    return offered && offered.desk !== closedStart && model.scenarios?.length ? 'start' : null;
  }

  /** The start view's choices, kept to what is offered: {scenario, lang} (ids). */
  function choices() {
    const list = model.scenarios || [];
    const scenario = list.find((s) => s.id === pick.scenario) || list[0];
    const langs = scenario?.langs || [];
    let lang = langs.includes(pick.lang) ? pick.lang : null;
    if (!lang) lang = langs.includes(getLanguage()) ? getLanguage() : langs[0] || null;
    return { scenario, lang };
  }

  /** What the panel shows for the current mode: blocks of text ({items}) and buttons ({button}). */
  function content(m) {
    const items = [];
    const buttonsOut = [];
    const blocks = [{ items }];
    if (model.status && (m === 'line' || m === 'waiting')) items.push({ text: model.status, size: 28, color: COLORS.quiet, gap: 18 });
    if (model.error) items.push({ text: model.error, size: 30, weight: 600, color: COLORS.error, gap: 18 });
    const full = { width: INNER };
    const half = { width: (INNER - GAP) / 2 };
    const third = { width: (INNER - GAP * 2) / 3 };
    if (m === 'start') {
      const { scenario, lang } = choices();
      items.push({ text: t('training.xr_start_heading', { desk: offered.name }), size: 40, weight: 700, color: COLORS.heading, gap: 8 });
      items.push({ text: t('training.xr_start_hint'), size: 26, color: COLORS.quiet, gap: 18 });
      items.push({ text: t('training.scenario'), size: 28, weight: 700, color: COLORS.heading, gap: 10 });
      const option = (id, label, selected, size) => ({
        button: { id, kind: selected ? 'choice' : 'secondary', label, selected, ...size },
      });
      for (const s of model.scenarios) blocks.push(option(`scenario:${s.id}`, s.title, s.id === scenario?.id, half));
      blocks.push({ items: [{ text: t('training.lang'), size: 28, weight: 700, color: COLORS.heading, gap: 10 }] });
      for (const l of scenario?.langs || []) blocks.push(option(`lang:${l}`, langName(l), l === lang, third));
      blocks.push({ space: 14 }); // a little room before "Start"
      blocks.push({ button: { id: 'start', kind: 'choice', label: t('training.start'), ...half } });
      blocks.push({ button: { id: 'close', kind: 'secondary', label: t('training.xr_close'), ...half } });
      return blocks;
    }
    if (m === 'line') {
      items.push({ text: t('training.citizen_says'), size: 28, weight: 700, color: COLORS.heading, gap: 6 });
      items.push({ text: model.line.text, size: 40, weight: 600, gap: 22 });
      const choices = model.line.choices || [];
      if (choices.length) {
        items.push({ text: t('training.choices'), size: 28, weight: 700, color: COLORS.heading, gap: 6 });
        items.push({ text: t('training.xr_hint'), size: 26, color: COLORS.quiet, gap: 12 });
        for (const c of choices) buttonsOut.push({ id: c.id, kind: 'choice', label: c.text, ...full, row: true });
        buttonsOut.push({ id: 'repeat', kind: 'secondary', label: t('training.repeat'), ...half });
      }
      buttonsOut.push({ id: 'stop', kind: 'secondary', label: t('training.stop'), ...half });
    } else if (m === 'waiting') {
      buttonsOut.push({ id: 'stop', kind: 'secondary', label: t('training.stop'), ...half });
    } else if (m === 'debrief') {
      const d = model.debrief;
      items.push({ text: t('training.debrief'), size: 40, weight: 700, color: COLORS.heading, gap: 8 });
      items.push({ text: t('training.score', { score: fmtScore(d.score) }), size: 36, weight: 600, gap: 18 });
      items.push({ text: t('training.rubric_caption'), size: 28, weight: 700, color: COLORS.heading, gap: 8 });
      items.push({
        table: {
          head: [t('training.col.criterion'), t('training.col.points'), t('training.col.max')],
          rows: (d.rubric || []).map((r) => [r.name || r.criterion, fmtNumber(r.points), fmtNumber(r.max)]),
        },
      });
      buttonsOut.push({ id: 'close', kind: 'secondary', label: t('training.xr_close'), ...half });
    } else if (m === 'ended') {
      items.push({ text: t('training.ended'), size: 34, gap: 18 });
      buttonsOut.push({ id: 'close', kind: 'secondary', label: t('training.xr_close'), ...half });
    }
    return [...blocks, ...buttonsOut.map((button) => ({ button }))];
  }

  function press(id) {
    if (builtMode === 'start') {
      if (id.startsWith('scenario:')) {
        pick.scenario = id.slice('scenario:'.length);
        update();
      } else if (id.startsWith('lang:')) {
        pick.lang = id.slice('lang:'.length);
        update();
      } else if (id === 'close') {
        closedStart = offered?.desk ?? null;
        update();
      } else if (id === 'start' && !sent && offered) {
        const { scenario, lang } = choices();
        if (!scenario || !lang) return;
        sent = true;
        if (!start({ desk: offered.desk, scenario: scenario.id, lang })) sent = false;
      }
      return;
    }
    if (id === 'close') {
      closedFor = model.debrief || (model.ended ? 'ended' : null);
      update();
    } else if (id === 'repeat') {
      repeat();
    } else if (id === 'stop') {
      stop();
    } else if (!sent) {
      sent = true;
      choose(id);
    }
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
    builtMode = null;
  }

  let builtMode = null;
  function build(m) {
    teardown();
    sent = false;
    builtMode = m;
    group = new THREE.Group();
    group.name = 'training-xr-panel';
    group.visible = false;
    // Top to bottom: text, and buttons: full-width rows, the small ones side by side
    // (as many as fit in a row).
    const cards = []; // [mesh, yPx (top)]
    const at = []; // [mesh, xPx (centre), yPx (top)]
    let y = PAD, x = 0, rowH = 0, trail = 0;
    const endRow = () => {
      if (!x) return;
      y += rowH + GAP;
      x = 0;
      rowH = 0;
    };
    for (const block of content(m)) {
      if (block.space) {
        endRow();
        y += block.space;
        continue;
      }
      if (block.items) {
        const text = layout(block.items, INNER);
        if (!text.height) continue;
        endRow();
        cards.push([paintedPlane(WIDTH, text.height, (ctx) => drawOps(ctx, text.ops, PAD, 0)), y]);
        y += text.height;
        trail = 0;
        continue;
      }
      const spec = block.button;
      const mesh = makeButton(spec);
      const { w, h } = mesh.userData.size;
      if (spec.row || x + w > INNER + 0.5) endRow();
      if (spec.row) {
        at.push([mesh, WIDTH / 2, y]);
        y += h + GAP;
      } else {
        at.push([mesh, PAD + x + w / 2, y]);
        rowH = Math.max(rowH, h);
        x += w + GAP;
      }
      trail = GAP;
    }
    endRow();
    const height = Math.ceil(y - trail + PAD);
    const toM = (px) => px / PX_PER_M;

    const plate = new THREE.Mesh(
      new THREE.PlaneGeometry(toM(WIDTH), toM(height)),
      new THREE.MeshBasicMaterial({ color: COLORS.plate, toneMapped: false }),
    );
    // Opaque, so drawn before the (transparent) text and buttons that lie on it.
    group.add(plate);
    // A select on the backplate does nothing (rather than walk through the panel).
    removers.push(xrHub.addInteractive(plate, {}));
    for (const [card, top] of cards) {
      card.position.set(0, toM(height / 2 - top - card.userData.size.h / 2), LIFT);
      card.renderOrder = 1;
      group.add(card);
    }
    for (const [mesh, cx, top] of at) {
      const { h } = mesh.userData.size;
      mesh.position.set(toM(cx - WIDTH / 2), toM(height / 2 - top - h / 2), LIFT * 2);
      mesh.renderOrder = 2;
      group.add(mesh);
      const { id } = mesh.userData.button;
      removers.push(xrHub.addInteractive(mesh, {
        onSelect: () => press(id),
        onHover: (on) => {
          if (on) hovered.add(id); else hovered.delete(id);
          mesh.userData.hover(on);
        },
      }));
      buttons.push(mesh);
    }
    xrHub.rig.add(group);
    placeIfAble();
  }

  function placeIfAble() {
    if (!group || placed) {
      if (group) group.visible = placed;
      return;
    }
    const head = xrHub.head();
    if (!head) return;
    placed = true;
    place(head);
  }

  let pose = null; // where the panel stands in this run: {position, yaw}
  function place(head) {
    const forward = new THREE.Vector3(-Math.sin(head.yaw), 0, -Math.cos(head.yaw));
    const position = head.position.clone().addScaledVector(forward, DISTANCE);
    position.y = head.position.y - BELOW_EYES;
    pose = { position, yaw: head.yaw };
    apply();
  }

  function apply() {
    if (!group || !pose) return;
    group.position.copy(pose.position);
    group.rotation.set(TILT, pose.yaw, 0, 'YXZ');
    group.visible = true;
  }

  function update() {
    offered = xrHub.presenting && xrHub.rig ? offer() : null;
    if ((offered?.desk ?? null) !== closedStart) closedStart = null;
    const m = xrHub.presenting && xrHub.rig ? mode() : null;
    if (!m) {
      teardown();
      return;
    }
    // The panel appears (again): where the user looks now.
    if (!group) {
      placed = false;
      pose = null;
    }
    const key = JSON.stringify([m, getLanguage(), model.status, model.error, model.line, model.debrief,
      m === 'start' ? [offered, model.scenarios, choices().scenario?.id, choices().lang] : null]);
    if (key !== builtKey) {
      build(m);
      builtKey = key;
      if (placed) apply();
    }
  }

  xrHub.onPresenting(() => {
    placed = false;
    pose = null;
    update();
  });

  return {
    render(next) {
      if (next.run && next.run !== lastRun) {
        // A new run: the panel is placed again where the user looks.
        placed = false;
        pose = null;
        closedFor = null;
      }
      if (next.run) lastRun = next.run;
      if (!next.ended && closedFor === 'ended') closedFor = null;
      model = next;
      update();
    },

    tick() {
      if (xrHub.presenting) {
        // Walking up to a practice desk (or away) shows the start view (or hides it).
        const now = offer();
        if ((now?.desk ?? null) !== (offered?.desk ?? null)) update();
      }
      if (group && !placed) placeIfAble();
    },

    state() {
      const shown = Boolean(group && group.visible && placed);
      const rig = xrHub.rig;
      if (group) group.updateMatrixWorld(true);
      const local = (mesh) => {
        const p = rig.worldToLocal(mesh.getWorldPosition(new THREE.Vector3()));
        const q = rig.getWorldQuaternion(new THREE.Quaternion()).invert().multiply(mesh.getWorldQuaternion(new THREE.Quaternion()));
        const n = new THREE.Vector3(0, 0, 1).applyQuaternion(q);
        return { at: p.toArray(), normal: n.toArray() };
      };
      const m = group ? mode() : null;
      const picked = m === 'start' ? choices() : null;
      return {
        visible: shown,
        mode: m,
        text: group && model.line ? model.line.text : null,
        error: group && model.error ? model.error : null,
        buttons: shown
          ? buttons.map((b) => {
            const { id, label, selected } = b.userData.button;
            return { id, label, selected: Boolean(selected), ...local(b) };
          })
          : [],
        hovered: [...hovered],
        score: group && model.debrief ? t('training.score', { score: fmtScore(model.debrief.score) }) : null,
        rubric: group && model.debrief
          ? (model.debrief.rubric || []).map((r) => [r.name || r.criterion, fmtNumber(r.points), fmtNumber(r.max)])
          : [],
        start: picked && offered ? { desk: offered.desk, scenario: picked.scenario?.id ?? null, lang: picked.lang } : null,
      };
    },
  };
}

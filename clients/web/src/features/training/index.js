// Training at a practice desk (roles staff and admin): a "Practice desk" panel.
// Choose a scenario (titles in the UI language), the language the simulated
// citizen speaks and a practice desk (the nearest, or one chosen here or with
// "Walk to"), then Start. While the scenario runs, the citizen's line is shown
// (and read out politely) with the answers to choose from as buttons; "Repeat"
// has the citizen say the line again (voice), "Stop" ends the scenario. At the
// end: the debrief, the score and the rubric as a table.
//
// In a VR session the same run is shown in the world (xr-panel.js): the line,
// the answers as 3D buttons for the controllers' select, the debrief. With no run,
// standing (not walking) within NEAR_M of a practice desk that is free (no other
// staff member stands at it: the server still decides, and a taken desk's error is
// shown on the panel), the panel offers the scenarios, the citizen's languages and
// Start: the same training_start as the form, at that desk.
//
// Voice: the server sends the desks' `call` with the practice desk's id; the
// desks feature's in-call bar connects voice with rtc_offer as in a desk call.
//
// Messages: training_scenarios, training_line, training_debrief, training_ended.
// Sends: training_start, training_choice, training_repeat, training_stop.
// Errors shown in the panel: all of the above.
// Test hook: training ({visible, scenarios, desks, running, line, debrief, ended, error, live,
//   xr: {visible, mode, text, error, buttons: [{id, label, selected, at, normal}] (rig space),
//   hovered, score, rubric, start: {desk, scenario, lang} | null}}).

import { LANGS, getLanguage, langName, localName, onLanguageChange, t } from '../../core/i18n.js';
import { practiceDeskById, practiceDeskName } from '../../world.js';
import { fmtNumber, fmtScore } from './format.js';
import { createXrPanel } from './xr-panel.js';

export const name = 'training';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);
const REFS = ['training_start', 'training_choice', 'training_repeat', 'training_stop'];
const NEAREST = '';
const NEAR_M = 3; // the VR start view: this close to a practice desk's staff spot
const TAKEN_M = 1; // another staff member this close to it: the desk is in use

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function option(value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

export function install(app) {
  const panel = $('training-panel');
  let scenarios = []; // [{id, title:{lang: text}, langs}]
  let deskIds = []; // practice desk ids the server offers
  let run = null; // {scenario, desk, lang} from Start until the end
  let line = null; // the last training_line
  let debrief = null; // the last training_debrief
  let ended = false; // a training_ended (no debrief)
  let errorCode = null;
  let live = '';
  let pickedDesk = NEAREST;
  let stopping = false; // "Stop" was sent: until the server's answer, nothing to start
  const xr = createXrPanel({
    choose: (choice) => act({ t: 'training_choice', choice }),
    repeat: () => act({ t: 'training_repeat' }),
    stop: () => stopRun(),
    start: (pick) => startRun(pick),
    offer: () => deskOffer(),
  });

  const visible = () => Boolean(app.self) && app.isStaff;
  const practiceDesks = () => deskIds.map((id) => practiceDeskById(app.world, id) || { id, position: [0, 0] });
  const scenarioById = (id) => scenarios.find((s) => s.id === id);
  const scenarioTitle = (id) => localName(scenarioById(id)?.title) || id;
  const deskLabel = (id) => practiceDeskName(practiceDeskById(app.world, id)) || id;

  /** The practice desk nearest to the local avatar (the first when it is not known). */
  function nearestDesk() {
    const desks = practiceDesks();
    const local = app.local;
    if (!desks.length) return null;
    if (!local) return desks[0].id;
    let best = desks[0], bestD = Infinity;
    for (const d of desks) {
      const dist = Math.hypot(d.position[0] - local.x, d.position[1] - local.z);
      if (dist < bestD) { best = d; bestD = dist; }
    }
    return best.id;
  }

  /** Does no other staff member stand at this practice desk (where a run puts them)? */
  function deskFree(desk) {
    for (const o of app.others?.all.values() ?? []) {
      if (o.role !== 'staff' && o.role !== 'admin') continue;
      const p = o.buffer.last;
      if (Math.hypot(p.x - desk.position[0], p.z - desk.position[1]) < TAKEN_M) return false;
    }
    return true;
  }

  /** The VR start view's desk: {desk, name} of the nearest free practice desk the local
   *  avatar stands at (within NEAR_M, not walking) when no run is active; else null. */
  function deskOffer() {
    const local = app.local;
    if (!visible() || !scenarios.length || !local || local.route.length) return null;
    if ((run && !debrief) || stopping) return null;
    let best = null, bestD = NEAR_M;
    for (const id of deskIds) {
      const d = practiceDeskById(app.world, id);
      if (!d) continue;
      const dist = Math.hypot(d.position[0] - local.x, d.position[1] - local.z);
      if (dist < bestD && deskFree(d)) { best = d; bestD = dist; }
    }
    return best ? { desk: best.id, name: practiceDeskName(best) || best.id } : null;
  }

  // --- drawing ---------------------------------------------------------------------
  function renderForm() {
    const scenarioSelect = $('tr-scenario');
    const keep = scenarioSelect.value;
    scenarioSelect.replaceChildren(...scenarios.map((s) => option(s.id, localName(s.title) || s.id)));
    if (scenarios.some((s) => s.id === keep)) scenarioSelect.value = keep;
    renderLangs();
    const deskSelect = $('tr-desk');
    deskSelect.replaceChildren(option(NEAREST, t('training.desk_nearest')),
      ...practiceDesks().map((d) => option(d.id, practiceDeskName(d) || d.id)));
    deskSelect.value = deskIds.includes(pickedDesk) ? pickedDesk : NEAREST;
  }

  function renderLangs() {
    const langSelect = $('tr-lang');
    const keep = langSelect.value;
    const langs = scenarioById($('tr-scenario').value)?.langs || LANGS;
    langSelect.replaceChildren(...langs.map((l) => option(l, langName(l))));
    if (langs.includes(keep)) langSelect.value = keep;
    else if (langs.includes(getLanguage())) langSelect.value = getLanguage();
  }

  function statusText() {
    if (!run) return '';
    return line
      ? t('training.running', { scenario: scenarioTitle(run.scenario), desk: deskLabel(run.desk) })
      : t('training.waiting', { desk: deskLabel(run.desk) });
  }

  function renderRun() {
    const running = Boolean(run) && !debrief;
    $('tr-run').hidden = !running;
    $('tr-form').hidden = running;
    if (!running) return;
    $('tr-status').textContent = statusText();
    $('tr-line').textContent = line ? line.text : '';
    const choices = line?.choices || [];
    $('tr-choices-box').hidden = choices.length === 0;
    $('tr-choices').replaceChildren(...choices.map((c) => {
      const b = el('button', { type: 'button', class: 'secondary', dataset: { choice: c.id } }, c.text);
      b.addEventListener('click', () => act({ t: 'training_choice', choice: c.id }));
      return el('li', {}, b);
    }));
    $('tr-repeat').disabled = !line || choices.length === 0;
  }

  function renderDebrief() {
    $('tr-debrief').hidden = !debrief;
    if (!debrief) return;
    $('tr-score').textContent = t('training.score', { score: fmtScore(debrief.score) });
    $('tr-rubric').tBodies[0].replaceChildren(...(debrief.rubric || []).map((r) => el('tr',
      { dataset: { criterion: r.criterion } },
      el('th', { scope: 'row' }, r.name || r.criterion),
      el('td', {}, fmtNumber(r.points)),
      el('td', {}, fmtNumber(r.max)))));
  }

  function render() {
    panel.hidden = !visible();
    $('tr-none').hidden = scenarios.length > 0;
    $('tr-start').disabled = scenarios.length === 0 || deskIds.length === 0;
    renderForm();
    renderRun();
    renderDebrief();
    $('tr-ended').hidden = !ended;
    $('tr-error').textContent = errorCode ? app.errorText(errorCode) : '';
    xr.render({
      run: visible() ? run : null, line, debrief: visible() ? debrief : null, ended: visible() && ended,
      status: statusText(), error: errorCode ? app.errorText(errorCode) : '',
      scenarios: scenarios.map((s) => ({ id: s.id, title: localName(s.title) || s.id, langs: [...(s.langs || LANGS)] })),
    });
  }

  function announce(text) {
    live = text;
    const region = $('tr-live');
    region.textContent = '';
    // A fresh text node after a moment, so the same sentence twice is read twice.
    setTimeout(() => { if (live === text) region.textContent = text; }, 50);
  }

  function clear() {
    scenarios = [];
    deskIds = [];
    run = null;
    line = null;
    debrief = null;
    ended = false;
    errorCode = null;
    live = '';
    stopping = false;
    $('tr-live').textContent = '';
    render();
  }

  /** Stop the scenario (the DOM's "Stop", or the VR panel's). */
  function stopRun() {
    stopping = act({ t: 'training_stop' });
    run = null;
    line = null;
    render();
  }

  /** Start a scenario (the form's Start, or the VR panel's): true when it was sent. */
  function startRun({ scenario, desk, lang }) {
    const msg = { t: 'training_start', desk, scenario, lang };
    if (LANGS.includes(getLanguage())) msg.ui = getLanguage();
    if (!act(msg)) return false;
    run = { scenario, desk, lang };
    line = null;
    debrief = null;
    ended = false;
    render();
    return true;
  }

  /** Send an action, clearing an earlier error. */
  function act(msg) {
    errorCode = null;
    $('tr-error').textContent = '';
    return app.send(msg);
  }

  /** Keep focus in the panel when the control that had it goes away. */
  function keepFocus(target) {
    const active = document.activeElement;
    if (!active || active === document.body || !active.isConnected || active.closest('[hidden]')) target.focus();
  }

  // --- controls ------------------------------------------------------------------------
  $('tr-scenario').addEventListener('change', renderLangs);
  $('tr-desk').addEventListener('change', (e) => { pickedDesk = e.target.value; });
  $('tr-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const scenario = $('tr-scenario').value;
    const desk = $('tr-desk').value || nearestDesk();
    if (!scenario || !desk) return;
    if (startRun({ scenario, desk, lang: $('tr-lang').value })) $('tr-stop').focus();
  });
  $('tr-repeat').addEventListener('click', () => act({ t: 'training_repeat' }));
  $('tr-stop').addEventListener('click', () => {
    stopRun();
    $('tr-start').focus();
  });

  // --- lifecycle and messages ------------------------------------------------------------
  app.onWelcome((msg) => { if (!msg.resumed) clear(); });
  app.onJoined(render);
  app.onLeft(clear);
  onLanguageChange(render);
  app.onFrame(() => xr.tick());
  // "Walk to" a practice desk: it becomes the desk to start at.
  app.onPlace((place) => {
    if (!place.practice || !visible()) return;
    pickedDesk = place.practice;
    renderForm();
  });

  app.on('training_scenarios', (msg) => {
    scenarios = Array.isArray(msg.scenarios) ? msg.scenarios : [];
    deskIds = Array.isArray(msg.desks) ? msg.desks : [];
    render();
  });

  app.on('training_line', (msg) => {
    if (!run) run = { scenario: msg.scenario, desk: nearestDesk(), lang: null };
    line = { scenario: msg.scenario, node: msg.node, text: msg.text, choices: msg.choices || [] };
    render(); // #tr-line is a polite live region: the line is read out from there
    // The answer just clicked is gone: continue at the new answers (or the line).
    const first = $('tr-choices').querySelector('button');
    if (first) keepFocus(first);
  });

  app.on('training_debrief', (msg) => {
    debrief = { scenario: msg.scenario, score: msg.score, rubric: msg.rubric || [] };
    render();
    announce(t('training.live_debrief', { score: fmtScore(msg.score) }));
    $('tr-debrief-heading').focus();
  });

  app.on('training_ended', () => {
    stopping = false;
    const wasRunning = Boolean(run) && !debrief;
    run = null;
    line = null;
    ended = true;
    render();
    if (wasRunning) {
      announce(t('training.ended'));
      keepFocus($('tr-start'));
    }
  });

  for (const ref of REFS) {
    app.onError(ref, (msg) => {
      if (!visible()) return false;
      errorCode = msg.code;
      if (ref === 'training_stop') stopping = false;
      // A refused start: back to the form.
      if (ref === 'training_start') { run = null; line = null; }
      render();
      if (ref === 'training_start') $('tr-start').focus();
      return true;
    });
  }

  app.expose(() => ({
    training: {
      visible: !panel.hidden,
      scenarios: scenarios.map((s) => ({ id: s.id, title: localName(s.title) || s.id, langs: [...(s.langs || [])] })),
      desks: [...deskIds],
      running: run ? { ...run } : null,
      line: line ? JSON.parse(JSON.stringify(line)) : null,
      debrief: debrief ? JSON.parse(JSON.stringify(debrief)) : null,
      ended,
      error: errorCode,
      live,
      xr: xr.state(),
    },
  }));
}

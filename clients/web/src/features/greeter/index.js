// The greeter: an automated FAQ assistant at the entrance (world.greeter), run
// by its own process (agents/greeter.py) as an avatar with the role `bot`.
//
// Honest about what it is: its name tag and 2D label carry the role line
// "Automated assistant" (role.bot) and a robot icon floats over it; every line
// it says is marked "Automated assistant" in the conversation panel.
//
// Near the greeter (or with a conversation going) a citizen sees the panel: the
// transcript (own lines and the greeter's), a text field (greeter_ask with the
// UI language), "Talk to a person", "Helpful / Not helpful" on the last answer
// (greeter_rate), a link from an answer to its Q&A topic (opens the Q&A panel
// there), and on greeter_offer a consent question ("Take a queue ticket for
// <service>?", yes / no: greeter_consent); greeter_outcome says what happened.
//
// Staff: the greeter_transcript of a ticket they call shows in their desk
// console, next to the current citizen.
//
// Messages: greeter_said, greeter_offer, greeter_outcome, greeter_transcript, case.
// Sends: greeter_ask, greeter_rate, greeter_consent.
// Errors shown in the panel: greeter_ask, greeter_rate, greeter_consent.
// Needs: 'qa' (opening a topic). Test hook: greeter ({visible, near, conv, lines,
// offer, outcome, error, bots, transcript}).

import * as THREE from 'three';
import { getLanguage, localName, onLanguageChange, t } from '../../core/i18n.js';
import { landmarkStandPoint, serviceById } from '../../world.js';

export const name = 'greeter';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const NEAR_M = 6;
const FAR_M = 8;
const KEEP_LINES = 100;
const REASONS = ['asked', 'not_helpful', 'needs_case', 'no_answer'];
const REFS = ['greeter_ask', 'greeter_rate', 'greeter_consent'];

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** A robot's head: the automated assistant's icon (decorative; the label says it in words). */
function robotIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'greeter-icon');
  const add = (name, attrs) => {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  };
  add('line', { x1: 12, y1: 1.5, x2: 12, y2: 5, class: 'greeter-icon-line' });
  add('rect', { x: 3, y: 5, width: 18, height: 15, rx: 4, class: 'greeter-icon-head' });
  add('circle', { cx: 8.5, cy: 11.5, r: 2, class: 'greeter-icon-eye' });
  add('circle', { cx: 15.5, cy: 11.5, r: 2, class: 'greeter-icon-eye' });
  add('rect', { x: 8, y: 15.5, width: 8, height: 1.8, rx: 0.9, class: 'greeter-icon-eye' });
  return svg;
}

/** The robot icon drawn on a 2D canvas at (x, y), `s` pixels tall. */
function drawRobot(ctx, x, y, s) {
  ctx.fillStyle = '#0e7490';
  ctx.strokeStyle = '#0e7490';
  ctx.lineWidth = Math.max(1.5, s * 0.08);
  ctx.beginPath();
  ctx.moveTo(x, y - s * 0.5);
  ctx.lineTo(x, y - s * 0.3);
  ctx.stroke();
  ctx.beginPath();
  ctx.roundRect(x - s * 0.4, y - s * 0.3, s * 0.8, s * 0.65, s * 0.15);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  for (const dx of [-0.17, 0.17]) {
    ctx.beginPath();
    ctx.arc(x + dx * s, y - s * 0.05, s * 0.08, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.fillRect(x - s * 0.17, y + s * 0.15, s * 0.34, s * 0.07);
}

/** A sprite with the robot icon (3D: floats over a bot's head). */
function robotSprite() {
  const canvas = document.createElement('canvas');
  canvas.width = 128;
  canvas.height = 128;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.beginPath();
  ctx.arc(64, 64, 60, 0, Math.PI * 2);
  ctx.fill();
  drawRobot(ctx, 64, 70, 90);
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: texture, depthWrite: false, transparent: true }));
  sprite.scale.set(0.55, 0.55, 1);
  sprite.renderOrder = 11;
  return sprite;
}

export function install(app) {
  const qa = app.service('qa');

  // --- the panel ---------------------------------------------------------------------------
  const panel = h('section', { id: 'greeter-panel', class: 'panel greeter', hidden: true, 'aria-labelledby': 'greeter-heading' },
    h('h2', { id: 'greeter-heading', class: 'greeter-heading' }, robotIcon(), h('span', { id: 'greeter-title' })),
    h('p', { class: 'greeter-disclosure', id: 'greeter-disclosure', 'data-i18n': 'greeter.disclosure' }, t('greeter.disclosure')),
    h('div', { id: 'greeter-log', class: 'greeter-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0',
      'data-own-keys': true, 'data-i18n-attr': 'aria-label:greeter.log', 'aria-label': t('greeter.log') }),
    h('div', { id: 'greeter-offer', class: 'greeter-offer', role: 'group', 'aria-labelledby': 'greeter-offer-q', hidden: true },
      h('p', { id: 'greeter-offer-q', class: 'greeter-offer-q', tabindex: '-1' }),
      h('p', { id: 'greeter-offer-text' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'greeter-yes', class: 'primary', 'data-i18n': 'greeter.offer.yes' }, t('greeter.offer.yes')),
        h('button', { type: 'button', id: 'greeter-no', class: 'secondary', 'data-i18n': 'greeter.offer.no' }, t('greeter.offer.no')))),
    h('form', { id: 'greeter-form', class: 'chat-row', novalidate: true },
      h('label', { for: 'greeter-input', class: 'visually-hidden', 'data-i18n': 'greeter.input' }, t('greeter.input')),
      h('input', { id: 'greeter-input', name: 'text', type: 'text', maxlength: 1000, autocomplete: 'off', 'aria-describedby': 'greeter-hint' }),
      h('button', { type: 'submit', class: 'primary', id: 'greeter-send', 'data-i18n': 'greeter.send' }, t('greeter.send'))),
    h('p', { id: 'greeter-hint', class: 'hint', 'data-i18n': 'greeter.hint' }, t('greeter.hint')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'greeter-person', class: 'secondary', 'data-i18n': 'greeter.person' }, t('greeter.person')),
      h('button', { type: 'button', id: 'greeter-close', class: 'secondary', 'data-i18n': 'greeter.close' }, t('greeter.close'))),
    h('p', { id: 'greeter-error', class: 'error', role: 'alert' }));
  const places = $('places-panel');
  places.parentNode.insertBefore(panel, places);

  // The greeter's conversation, for the staff member who calls its ticket.
  const transcriptBox = h('section', { id: 'greeter-transcript', class: 'staff-block greeter-transcript', hidden: true, 'aria-labelledby': 'greeter-transcript-heading' },
    h('h3', { id: 'greeter-transcript-heading', 'data-i18n': 'greeter.transcript.heading' }, t('greeter.transcript.heading')),
    h('p', { id: 'greeter-transcript-about' }),
    h('ol', { id: 'greeter-transcript-lines' }));
  const caseFacts = $('case-facts');
  if (caseFacts) caseFacts.after(transcriptBox);
  else $('staff-panel')?.append(transcriptBox);

  // --- state -------------------------------------------------------------------------------------
  let conv = null;
  let lines = []; // {from: 'me' | 'greeter' | 'system', text, kind, topic, official, rated, key}
  let offer = null; // the greeter_offer waiting for an answer
  let outcome = null;
  let near = false;
  let dismissed = false;
  let errorCode = null;
  let lineSeq = 0;
  const transcripts = new Map(); // ticket -> greeter_transcript
  let currentCase = null; // the staff member's current `case`

  const canTalk = () => app.inHall && app.role === 'citizen';
  const visible = () => canTalk() && !dismissed && (near || lines.length > 0 || Boolean(offer));
  const serviceName = (id) => localName(serviceById(app.world, id)?.name) || id || '';

  function render() {
    panel.hidden = !visible();
    $('greeter-title').textContent = localName(app.world?.greeter?.names) || t('greeter.heading');
    $('greeter-offer').hidden = !offer;
    if (offer) {
      $('greeter-offer-q').textContent = t('greeter.offer.question', { service: serviceName(offer.service) });
      $('greeter-offer-text').textContent = offer.text || '';
    }
    $('greeter-error').textContent = errorCode ? app.errorText(errorCode) : '';
  }

  function lineItem(line) {
    if (line.from === 'me') {
      return h('div', { class: 'greeter-line greeter-from-me', dataset: { from: 'me', line: line.key } },
        h('span', { class: 'greeter-who' }, t('greeter.you')), line.text);
    }
    if (line.from === 'system') {
      return h('div', { class: 'greeter-line greeter-system', dataset: { from: 'system', line: line.key } }, line.text);
    }
    const li = h('div', { class: 'greeter-line greeter-from-bot', dataset: { from: 'greeter', kind: line.kind, line: line.key, automated: 'true' } },
      h('span', { class: 'greeter-tag' }, robotIcon(), t('greeter.automated')),
      h('span', { class: 'greeter-text' }, line.text));
    if (line.topic) {
      li.append(' ', h('button', { type: 'button', class: 'qa-button-link greeter-source', dataset: { topic: line.topic },
        onclick: () => qa.open(line.topic) }, line.official ? t('greeter.source_official') : t('greeter.source')));
    }
    if (line.kind === 'answer') li.append(rateButtons(line));
    return li;
  }

  function rateButtons(line) {
    const last = lines.filter((l) => l.from === 'greeter' && l.kind === 'answer').at(-1) === line;
    const box = h('div', { class: 'actions', role: 'group', 'aria-label': t('greeter.rate') });
    for (const helpful of [true, false]) {
      const pressed = line.rated === helpful;
      box.append(h('button', {
        type: 'button', class: 'secondary', dataset: { rate: helpful ? 'yes' : 'no' },
        'aria-pressed': pressed ? 'true' : 'false',
        disabled: !last || line.rated !== undefined ? true : null,
        onclick: () => rate(line, helpful),
      }, t(helpful ? 'greeter.helpful' : 'greeter.not_helpful')));
    }
    return box;
  }

  function renderLog() {
    $('greeter-log').replaceChildren(...lines.map(lineItem));
  }

  /** Add a line: appended (the log is a polite live region that reads additions). */
  function addLine(line) {
    lineSeq += 1;
    const entry = { ...line, key: lineSeq };
    lines.push(entry);
    if (lines.length > KEEP_LINES) lines.shift();
    dismissed = false;
    // An earlier answer can no longer be rated: redraw its buttons.
    if (entry.kind === 'answer') {
      for (const b of $('greeter-log').querySelectorAll('button[data-rate]')) b.disabled = true;
    }
    $('greeter-log').append(lineItem(entry));
    if (lines.length > KEEP_LINES) $('greeter-log').firstElementChild?.remove();
    const log = $('greeter-log');
    log.scrollTop = log.scrollHeight;
    render();
  }

  function act(msg) {
    errorCode = null;
    render();
    if (!app.send(msg)) {
      errorCode = 'offline';
      $('greeter-error').textContent = t('greeter.offline');
      return false;
    }
    return true;
  }

  function ask(text) {
    const clean = [...text.trim()].slice(0, 1000).join('');
    if (!clean) return false;
    if (!act({ t: 'greeter_ask', text: clean, lang: getLanguage() })) return false;
    addLine({ from: 'me', text: clean });
    return true;
  }

  function rate(line, helpful) {
    if (!conv || line.rated !== undefined) return;
    if (!act({ t: 'greeter_rate', conv, helpful })) return;
    line.rated = helpful;
    const li = $('greeter-log').querySelector(`[data-line="${line.key}"]`);
    li?.replaceWith(lineItem(line));
    $('greeter-log').querySelector(`[data-line="${line.key}"] button[data-rate="${helpful ? 'yes' : 'no'}"]`)?.focus();
    app.announce(t('greeter.rated'));
  }

  function consent(yes) {
    if (!offer) return;
    if (!act({ t: 'greeter_consent', conv: offer.conv, yes })) return;
    addLine({ from: 'me', text: yes ? t('greeter.offer.yes') : t('greeter.offer.no') });
    offer = null;
    render();
    $('greeter-input').focus();
  }

  $('greeter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (ask($('greeter-input').value)) $('greeter-input').value = '';
  });
  $('greeter-person').addEventListener('click', () => ask(t('greeter.person_text')));
  $('greeter-yes').addEventListener('click', () => consent(true));
  $('greeter-no').addEventListener('click', () => consent(false));
  $('greeter-close').addEventListener('click', () => {
    dismissed = true;
    render();
    app.view.canvas.focus();
  });

  // Enter in the hall view near the greeter: talk to it.
  app.view.canvas.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && near && canTalk() && !e.repeat) {
      e.preventDefault();
      dismissed = false;
      render();
      $('greeter-input').focus();
    }
  });

  // --- the bot's avatar: a robot icon over it (3D sprite or 2D drawing) ---------------------------
  const bots = new Map(); // id -> {sprite?, x, z}
  const isBot = (o) => o.role === 'bot';
  app.others.addEventListener('enter', (e) => {
    for (const o of e.detail) {
      if (!isBot(o) || bots.has(o.id)) continue;
      const entry = { x: o.buffer?.last?.x ?? 0, z: o.buffer?.last?.z ?? 0, sprite: null };
      if (app.view.kind === '3d') {
        entry.sprite = robotSprite();
        app.view.scene.add(entry.sprite);
      }
      bots.set(o.id, entry);
    }
  });
  function dropBot(id) {
    const entry = bots.get(id);
    if (!entry) return;
    if (entry.sprite) {
      app.view.scene.remove(entry.sprite);
      entry.sprite.material.map?.dispose();
      entry.sprite.material.dispose();
    }
    bots.delete(id);
  }
  app.others.addEventListener('leave', (e) => { for (const id of e.detail) dropBot(id); });
  app.view.addOverlay?.((ctx, { sx, sy, scale }) => {
    for (const b of bots.values()) drawRobot(ctx, sx(b.x) + Math.max(12, scale * 1.2), sy(b.z) - Math.max(10, scale * 0.6), Math.max(14, scale * 1.2));
  });

  app.onFrame((nowS) => {
    if (bots.size) {
      const rt = app.others.renderTime(nowS);
      for (const [id, b] of bots) {
        const o = app.others.all.get(id);
        if (!o) { dropBot(id); continue; }
        const p = o.buffer.sample(rt);
        b.x = p.x;
        b.z = p.z;
        b.sprite?.position.set(p.x, 3.05, p.z);
      }
    }
    const local = app.local;
    const spot = app.world?.greeter ? landmarkStandPoint(app.world.greeter) : null;
    if (!canTalk() || !local || !spot) return;
    const d = Math.hypot(local.x - spot.x, local.z - spot.z);
    const was = near;
    if (!near && d < NEAR_M) near = true;
    else if (near && d > FAR_M) near = false;
    if (near !== was) {
      if (near) dismissed = false;
      render();
      if (near) app.announce(t('greeter.here'));
    }
  });

  // --- lifecycle ---------------------------------------------------------------------------------------
  function reset() {
    conv = null;
    lines = [];
    offer = null;
    outcome = null;
    errorCode = null;
    near = false;
    renderLog();
    render();
  }
  app.onWelcome((msg) => { if (!msg.resumed) reset(); render(); });
  app.onJoined(render);
  app.onLeft(() => {
    reset();
    for (const id of [...bots.keys()]) dropBot(id);
    transcripts.clear();
    currentCase = null;
    renderTranscript();
  });
  onLanguageChange(() => {
    renderLog();
    render();
    renderTranscript();
  });

  // --- messages ---------------------------------------------------------------------------------------------
  app.on('greeter_said', (msg) => {
    conv = msg.conv;
    addLine({ from: 'greeter', text: msg.text, kind: msg.kind, topic: msg.topic ?? null, official: Boolean(msg.official) });
  });
  app.on('greeter_offer', (msg) => {
    conv = msg.conv;
    offer = { conv: msg.conv, reason: msg.reason, service: msg.service, text: msg.text };
    dismissed = false;
    render();
    $('greeter-offer-q').focus();
  });
  app.on('greeter_outcome', (msg) => {
    outcome = { conv: msg.conv, handed_over: Boolean(msg.handed_over), ticket: msg.ticket ?? null };
    offer = null;
    addLine({
      from: 'system',
      text: msg.handed_over && msg.ticket ? t('greeter.outcome.ticket', { ticket: msg.ticket }) : t('greeter.outcome.none'),
    });
  });
  for (const ref of REFS) {
    app.onError(ref, (msg) => {
      if (!visible()) return false;
      errorCode = msg.code;
      render();
      return true;
    });
  }

  // --- staff: the transcript of the called ticket ---------------------------------------------------------
  function renderTranscript() {
    const open = currentCase && ['called', 'serving'].includes(currentCase.status);
    const tr = open ? transcripts.get(currentCase.ticket) : null;
    transcriptBox.hidden = !(app.inHall && app.isStaff && tr);
    if (!tr) return;
    const reason = REASONS.includes(tr.reason) ? t(`greeter.reason.${tr.reason}`) : tr.reason;
    $('greeter-transcript-about').textContent = t('greeter.transcript.about', { ticket: tr.ticket, reason });
    $('greeter-transcript-lines').replaceChildren(...(tr.lines || []).map((l) => h('li', { dataset: { from: l.from }, lang: tr.lang || null },
      h('span', { class: l.from === 'greeter' ? 'greeter-tag' : 'greeter-who' },
        l.from === 'greeter' ? [robotIcon(), t('greeter.automated')] : t('greeter.transcript.citizen')),
      ' ', l.text)));
  }
  app.on('greeter_transcript', (msg) => {
    transcripts.set(msg.ticket, msg);
    if (!currentCase || currentCase.ticket === msg.ticket) {
      currentCase = currentCase ?? { ticket: msg.ticket, status: 'called' };
    }
    renderTranscript();
    if (!transcriptBox.hidden) app.announce(t('greeter.transcript.arrived', { ticket: msg.ticket }));
  });
  app.on('case', (msg) => {
    currentCase = { ticket: msg.ticket, status: msg.status };
    if (!['called', 'serving'].includes(msg.status)) transcripts.delete(msg.ticket);
    renderTranscript();
  });

  app.expose(() => ({
    greeter: {
      visible: !panel.hidden,
      near,
      conv,
      lines: lines.map(({ from, text, kind, topic, official, rated }) => ({ from, text, kind: kind ?? null, topic: topic ?? null, official: Boolean(official), rated: rated ?? null })),
      offer: offer ? { ...offer } : null,
      outcome: outcome ? { ...outcome } : null,
      error: errorCode,
      bots: [...bots.keys()],
      transcript: transcriptBox.hidden ? null : { ticket: currentCase?.ticket ?? null, lines: (transcripts.get(currentCase?.ticket)?.lines || []).length },
    },
  }));
}

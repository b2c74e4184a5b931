// The staff scorecard (roles staff and admin): a "My progress" panel next to
// the staff console. Points today (of the most a day can give) and this season,
// the level, the points per metric, the last case's lines as information
// ("Rated 5 by the citizen: +12 for quality."), badges with their dates,
// personal goals (set and remove), the team's challenges as labelled progress
// bars, one's own settings, and the opt-in board (top N and one's own rank ±1).
// Only the staff member sees any of it; the server never sends another's figures.
//
// Messages: scorecard, case_feedback, leaderboard.
// Sends: scorecard_get, scorecard_settings, goal_set, goal_clear, leaderboard_get.
// Errors shown in the panel: all of the above (goal_set next to its form).
// A case_feedback is read out politely (#sc-live, role=status).
// Test hook: scorecard ({progress, lastCase, board, error, live}).

import { has, localName, onLanguageChange, t } from '../../core/i18n.js';
import { tagExtras } from '../../avatars.js';
import {
  DEFAULT_GOAL_KINDS, challengeBlock, el, fmtDay, fmtNumber, fmtPercent, fmtPoints, levelName, lineSentence,
  metricName, progressBar,
} from './text.js';

export const name = 'scorecard';
export const messages = new URL('./messages/', import.meta.url);

const $ = (id) => document.getElementById(id);
const REFS = ['scorecard_get', 'scorecard_settings', 'goal_set', 'goal_clear', 'leaderboard_get'];

/** How a goal kind's target is typed: as a percentage, a rating, or a scenario's id. */
const TARGETS = {
  csat_week: { min: 1, max: 100, step: 1, label: 'scorecard.goal.target_percent', toWire: (v) => v / 100 },
  rating_week: { min: 1, max: 5, step: 0.1, label: 'scorecard.goal.target_rating', toWire: (v) => v },
};

export function install(app) {
  const panel = $('scorecard-panel');
  let progress = null; // the last `scorecard` progress
  let lastCase = null; // {ticket, lines, total}
  let board = null; // the last `leaderboard` board
  let errorCode = null;
  let goalError = null; // {key, values} or {code}
  let live = '';
  let kindsKey = '';

  const visible = () => Boolean(app.self) && app.isStaff;

  // --- drawing ---------------------------------------------------------------------
  function renderFacts(p) {
    $('sc-today').textContent = t('scorecard.today_value', {
      points: fmtNumber(p.today?.points), max: fmtNumber(p.today?.max),
    });
    const s = p.season || {};
    $('sc-season').textContent = t('scorecard.season_value', {
      points: fmtNumber(s.points),
      workdays: Number(s.workdays) || 0,
      per_workday: fmtNumber(s.per_workday),
      from: fmtDay(s.from),
      to: fmtDay(s.to),
    });
    $('sc-level').textContent = p.next_level
      ? t('scorecard.level_value', {
        level: levelName(p.level), next: levelName(p.next_level), points: fmtNumber(p.next_level.points),
      })
      : t('scorecard.level_top', { level: levelName(p.level) });
    $('sc-best').textContent = p.best_day
      ? t('scorecard.best_value', { points: fmtNumber(p.best_day.points), day: fmtDay(p.best_day.day) })
      : t('scorecard.best_none');
  }

  function renderMetrics(p) {
    const rows = Object.entries(p.today?.metrics || {}).map(([metric, m]) => el('tr', { dataset: { metric } },
      el('th', { scope: 'row' }, metricName(metric)),
      el('td', { dataset: { points: String(m.points) } }, fmtNumber(m.points)),
      el('td', {}, fmtNumber(m.max))));
    $('sc-metrics').tBodies[0].replaceChildren(...rows);
  }

  function renderLastCase() {
    const c = lastCase;
    $('sc-last-none').hidden = Boolean(c);
    $('sc-last-ticket').hidden = !c;
    if (!c) {
      $('sc-lines').replaceChildren();
      return;
    }
    $('sc-last-ticket').textContent = t('scorecard.last_ticket', { ticket: c.ticket, total: fmtPoints(c.total) });
    $('sc-lines').replaceChildren(...c.lines.map((line) => el('li', {
      class: 'sc-line', dataset: { metric: line.metric, reason: line.reason, points: String(line.points) },
    }, lineSentence(line))));
  }

  function renderBadges(p) {
    const badges = p.badges || [];
    $('sc-badges-none').hidden = badges.length > 0;
    $('sc-badges').replaceChildren(...badges.map((b) => {
      const description = localName(b.descriptions);
      return el('li', { dataset: { badge: b.id } },
        t('scorecard.badge_line', { name: localName(b.names) || b.id, day: fmtDay(b.at) }),
        description ? el('span', { class: 'hint' }, ` ${description}`) : null);
    }));
  }

  function goalSentence(g) {
    if (g.kind === 'training_scenario') {
      return t('scorecard.goal.line.training_scenario', { scenario: String(g.target), met: g.met ? 'yes' : 'no' });
    }
    const percent = g.kind === 'csat_week';
    const values = {
      value: percent ? fmtPercent(g.value) : fmtNumber(g.value),
      target: percent ? fmtPercent(g.target) : fmtNumber(g.target),
      n: Number(g.n) || 0,
      met: g.met ? 'yes' : 'no',
    };
    return t(`scorecard.goal.line.${percent ? 'csat_week' : 'rating_week'}`, values);
  }

  function renderGoals(p) {
    const goals = p.goals || [];
    $('sc-goals-none').hidden = goals.length > 0;
    $('sc-goals').replaceChildren(...goals.map((g, i) => {
      const sentence = goalSentence(g);
      const remove = el('button', { type: 'button', class: 'secondary', dataset: { goal: g.id } },
        t('scorecard.goal.remove'), el('span', { class: 'visually-hidden' }, ` – ${sentence}`));
      remove.addEventListener('click', () => act({ t: 'goal_clear', goal: g.id }));
      return el('li', { class: 'sc-goal', dataset: { goal: g.id, met: String(Boolean(g.met)) } },
        progressBar(`sc-goal-${i}`, sentence, g.progress), remove);
    }));
    // The kinds the rules offer (the progress may list them; else the shipped ones).
    const kinds = Array.isArray(p.goal_kinds) && p.goal_kinds.length ? p.goal_kinds : DEFAULT_GOAL_KINDS;
    const select = $('sc-goal-kind');
    const keep = select.value;
    const optionsKey = JSON.stringify([document.documentElement.lang, kinds]);
    if (optionsKey !== kindsKey) {
      kindsKey = optionsKey; // unchanged options are left alone while the select is in use
      select.replaceChildren(...kinds.map((k) => el('option', { value: k },
      has(`scorecard.goal.kind.${k}`) ? t(`scorecard.goal.kind.${k}`) : k)));
      if (kinds.includes(keep)) select.value = keep;
    }
    renderGoalForm();
  }

  function renderGoalForm() {
    const kind = $('sc-goal-kind').value;
    const spec = TARGETS[kind];
    $('sc-goal-target-row').hidden = !spec;
    $('sc-goal-ref-row').hidden = kind !== 'training_scenario';
    if (spec) {
      const input = $('sc-goal-target');
      $('sc-goal-target-label').textContent = t(spec.label);
      input.min = String(spec.min);
      input.max = String(spec.max);
      input.step = String(spec.step);
    }
    $('sc-goal-error').textContent = goalError
      ? (goalError.code ? app.errorText(goalError.code) : t(goalError.key, goalError.values))
      : '';
  }

  function renderChallenges(p) {
    const list = p.challenges || [];
    $('sc-team-none').hidden = list.length > 0;
    $('sc-challenges').replaceChildren(...list.map((ch) => challengeBlock(ch, 'sc-ch')));
  }

  function renderBoard(p) {
    const works = Boolean(p?.works_agreement);
    const on = Boolean(p?.participating && p?.settings?.leaderboard) && !works;
    $('sc-works').hidden = !works;
    $('sc-board-block').hidden = !on;
    if (!on) board = null;
    $('sc-board-wrap').hidden = !board;
    if (!board) return;
    $('sc-board-caption').textContent = t('scorecard.board_caption', {
      n: Number(board.size) || 0, from: fmtDay(board.from), to: fmtDay(board.to),
    });
    const rows = [];
    let previous = 0;
    for (const e of board.entries || []) {
      // A gap between the top and one's own neighbourhood is said, not hidden.
      if (previous && e.rank > previous + 1 && rows.length) {
        rows.push(el('tr', { class: 'sc-gap' }, el('td', { colspan: '3' }, t('scorecard.board_gap'))));
      }
      previous = e.rank;
      rows.push(el('tr', { dataset: { rank: String(e.rank), you: String(Boolean(e.you)) }, class: e.you ? 'sc-you' : null },
        el('th', { scope: 'row' }, fmtNumber(e.rank, 0)),
        el('td', { class: 'sc-name' }, e.you ? t('scorecard.board_you', { name: e.name || '—' }) : e.name || '—'),
        el('td', {}, fmtNumber(e.points))));
    }
    $('sc-board').tBodies[0].replaceChildren(...rows);
  }

  function renderSettings(p) {
    const s = p?.settings || {};
    const participating = p ? p.participating !== false : true;
    $('sc-participate').checked = participating && s.participate !== false;
    $('sc-leaderboard').checked = Boolean(s.leaderboard);
    $('sc-leaderboard').disabled = !participating;
    $('sc-badges-toggle').checked = Boolean(s.show_badges);
    $('sc-leaderboard-row').hidden = Boolean(p?.works_agreement);
  }

  function render() {
    panel.hidden = !visible();
    const p = progress;
    $('sc-loading').hidden = Boolean(p);
    $('sc-off').hidden = !p || p.participating !== false;
    $('sc-body').hidden = !p || p.participating === false;
    $('sc-settings').hidden = !p;
    renderSettings(p);
    $('sc-error').textContent = errorCode ? app.errorText(errorCode) : '';
    if (!p || p.participating === false) {
      renderBoard(p);
      return;
    }
    renderFacts(p);
    renderMetrics(p);
    renderLastCase();
    renderBadges(p);
    renderGoals(p);
    renderChallenges(p);
    renderBoard(p);
  }

  function announce(text) {
    live = text;
    const region = $('sc-live');
    region.textContent = '';
    // A fresh text node after a moment, so the same sentence twice is read twice.
    setTimeout(() => { if (live === text) region.textContent = text; }, 50);
  }

  function clear() {
    progress = null;
    lastCase = null;
    board = null;
    errorCode = null;
    goalError = null;
    live = '';
    $('sc-live').textContent = '';
    render();
  }

  /** Send an action, clearing an earlier error. */
  function act(msg) {
    errorCode = null;
    $('sc-error').textContent = '';
    return app.send(msg);
  }

  // --- controls ------------------------------------------------------------------------
  const setting = (field) => (e) => act({ t: 'scorecard_settings', [field]: e.target.checked });
  $('sc-participate').addEventListener('change', setting('participate'));
  $('sc-leaderboard').addEventListener('change', setting('leaderboard'));
  $('sc-badges-toggle').addEventListener('change', setting('show_badges'));
  $('sc-settings').addEventListener('submit', (e) => e.preventDefault());
  $('sc-board-show').addEventListener('click', () => act({ t: 'leaderboard_get' }));
  $('sc-goal-kind').addEventListener('change', () => {
    goalError = null;
    renderGoalForm();
  });
  $('sc-goal-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const kind = $('sc-goal-kind').value;
    const invalid = (key, values, field) => {
      goalError = { key, values };
      renderGoalForm();
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    };
    $('sc-goal-target').removeAttribute('aria-invalid');
    $('sc-goal-ref').removeAttribute('aria-invalid');
    const msg = { t: 'goal_set', kind, target: 0 };
    if (kind === 'training_scenario') {
      const ref = $('sc-goal-ref').value.trim();
      if (!ref) { invalid('scorecard.goal.need_ref', {}, $('sc-goal-ref')); return; }
      msg.ref = ref;
    } else if (TARGETS[kind]) {
      const spec = TARGETS[kind];
      const value = Number(String($('sc-goal-target').value).replace(',', '.'));
      if (!$('sc-goal-target').value || !Number.isFinite(value) || value < spec.min || value > spec.max) {
        invalid('scorecard.goal.bad_target', { min: fmtNumber(spec.min), max: fmtNumber(spec.max) }, $('sc-goal-target'));
        return;
      }
      msg.target = spec.toWire(value);
    }
    goalError = null;
    renderGoalForm();
    if (act(msg)) {
      $('sc-goal-target').value = '';
      $('sc-goal-ref').value = '';
    }
  });

  // --- lifecycle and messages ------------------------------------------------------------
  app.onWelcome((msg) => { if (!msg.resumed) clear(); });
  app.onJoined(() => {
    render();
    // The server sends the progress when a staff member comes in; ask if it has not yet.
    if (visible() && !progress) app.send({ t: 'scorecard_get' });
  });
  app.onLeft(clear);
  onLanguageChange(render);

  app.on('scorecard', (msg) => {
    progress = msg.progress || null;
    // The server's last case is the truth (a case_feedback in between may be a late one).
    if (progress?.last_case) {
      const lines = progress.last_case.lines || [];
      lastCase = {
        ticket: progress.last_case.ticket,
        lines,
        total: lines.reduce((sum, l) => sum + (Number(l.points) || 0), 0),
      };
    }
    if (progress?.participating === false) lastCase = null;
    render();
  });

  // Badges a staff member chose to show: under their name tag, for everyone.
  app.on('staff_badges', (msg) => {
    const names = (msg.badges || []).map((b) => b.names);
    if (names.length) {
      tagExtras.set(msg.id, () => [names.map((n) => localName(n)).join(' · ')]);
    } else {
      tagExtras.delete(msg.id);
    }
    app.view?.relabel?.();
  });

  app.on('case_feedback', (msg) => {
    lastCase = { ticket: msg.ticket, lines: msg.lines || [], total: Number(msg.total) || 0 };
    render();
    announce(t('scorecard.live_case', {
      ticket: msg.ticket,
      lines: lastCase.lines.map(lineSentence).join(' '),
      total: fmtPoints(lastCase.total),
    }));
  });

  app.on('leaderboard', (msg) => {
    board = msg.board || null;
    render();
    if (board) announce($('sc-board-caption').textContent);
  });

  for (const ref of REFS) {
    app.onError(ref, (msg) => {
      if (!visible()) return false;
      if (ref === 'goal_set') {
        goalError = { code: msg.code };
        renderGoalForm();
        return true;
      }
      errorCode = msg.code;
      // A refused setting: the boxes go back to what the server has.
      render();
      return true;
    });
  }

  app.expose(() => ({
    scorecard: {
      visible: !panel.hidden,
      progress: progress ? JSON.parse(JSON.stringify(progress)) : null,
      lastCase: lastCase ? { ...lastCase, text: lastCase.lines.map(lineSentence) } : null,
      board: board ? JSON.parse(JSON.stringify(board)) : null,
      error: errorCode ?? goalError?.code ?? goalError?.key ?? null,
      live,
      // The lines under each avatar's name tag (badges shown by choice), by entity id.
      tagBadges: Object.fromEntries([...tagExtras].map(([id, lines]) => [id, lines()])),
    },
  }));
}

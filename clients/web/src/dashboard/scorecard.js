// The dashboard's "Staff scorecard: rules and team" section, from
// GET /api/scorecard/rules and GET /api/scorecard/team?period=day|week|season
// (the same manager token). The rules: each metric's most points a day and its
// share of the weight, the share on quality and outcome, and the rules file's
// error if the server kept the last good rules. The team: service level,
// satisfaction, mean points per staff workday and the challenges, never one
// person's figures; in works-agreement mode a group too small is not shown.
//
// Every request to these routes is written to the server's audit log, so the
// section loads once when the board opens, and again on "Update" or a new period
// (not with the dashboard's 5-second poll).
//
//   const sc = new ScorecardSection(api, { onAuthError });
//   sc.load(); sc.clear(); sc.rerender(); sc.snapshot();

import { t } from '../core/i18n.js';
import {
  challengeBlock, el, fmtNumber, fmtPercent, metricName,
} from '../features/scorecard/text.js';
import { ApiError } from './api.js';

const $ = (id) => document.getElementById(id);
const PERIODS = ['day', 'week', 'season'];

export class ScorecardSection {
  constructor(api, { onAuthError } = {}) {
    this.api = api;
    this.onAuthError = onAuthError;
    this.rules = null;
    this.team = null;
    this.error = null; // {key, values}
    this.loads = 0;
    this.seq = 0;
    $('dsc-period').addEventListener('change', () => this.load(false));
    $('dsc-refresh').addEventListener('click', () => this.load(true, true));
  }

  get period() {
    const p = $('dsc-period').value;
    return PERIODS.includes(p) ? p : 'day';
  }

  clear() {
    this.rules = null;
    this.team = null;
    this.error = null;
    this.seq += 1;
    this.render();
  }

  /** Fetch the team figures (and the rules too when `withRules` or none yet). */
  async load(withRules = true, announce = false) {
    const seq = ++this.seq;
    const period = this.period;
    $('dsc-status').textContent = t('dash.sc.loading');
    try {
      const [rules, team] = await Promise.all([
        withRules || !this.rules ? this.api.json('/api/scorecard/rules') : Promise.resolve(this.rules),
        this.api.json(`/api/scorecard/team?period=${encodeURIComponent(period)}`),
      ]);
      if (seq !== this.seq) return;
      this.rules = rules;
      this.team = team;
      this.error = null;
      this.loads += 1;
    } catch (e) {
      if (seq !== this.seq) return;
      if (e instanceof ApiError && (e.status === 401 || e.status === 403) && e.code !== 'works_agreement') {
        this.onAuthError?.(e);
        return;
      }
      this.error = this.errorOf(e);
    }
    this.render();
    $('dsc-status').textContent = announce && !this.error ? t('dash.sc.updated') : '';
  }

  errorOf(e) {
    if (!(e instanceof ApiError) || e.code === 'network') return { key: 'dash.error.network', values: {} };
    if (e.status === 404) return { key: 'dash.sc.unavailable', values: {} };
    if (e.status === 400) return { key: 'dash.error.bad_request', values: { reason: e.reason || e.code } };
    return { key: 'dash.error.http', values: { status: e.status } };
  }

  rerender() {
    this.render();
  }

  render() {
    $('dsc-error').textContent = this.error ? t(this.error.key, this.error.values) : '';
    const r = this.rules;
    $('dsc-content').hidden = !r;
    if (!r) return;
    this.renderRules(r, this.team);
    this.renderTeam(r, this.team);
  }

  renderRules(r, team) {
    $('dsc-works').hidden = !r.works_agreement;
    $('dsc-rules-error').hidden = !r.rules_error;
    $('dsc-rules-error').textContent = r.rules_error ? t('dash.sc.rules_error', { error: r.rules_error }) : '';
    const shown = team && !team.suppressed ? team : null;
    const period = PERIODS.includes(team?.period) ? team.period : 'day';
    const table = $('dsc-rules');
    $('dsc-rules-caption').textContent = t('dash.sc.rules_caption', { file: r.path || '' });
    table.tHead.replaceChildren(el('tr', {},
      el('th', { scope: 'col' }, t('dash.sc.col.metric')),
      el('th', { scope: 'col' }, t('dash.sc.col.max')),
      el('th', { scope: 'col' }, t('dash.sc.col.share')),
      shown ? el('th', { scope: 'col' }, t('dash.sc.col.team', { period })) : null));
    const metrics = r.metrics || [];
    table.tBodies[0].replaceChildren(...metrics.map((m) => el('tr', { dataset: { metric: m.name } },
      el('th', { scope: 'row' }, metricName(m.name)),
      el('td', { dataset: { value: String(m.max_points) } }, fmtNumber(m.max_points)),
      el('td', { dataset: { value: String(m.share) } }, fmtPercent(m.share)),
      shown ? el('td', {}, fmtNumber(shown.metrics?.[m.name])) : null)));
    const total = metrics.reduce((sum, m) => sum + (Number(m.max_points) || 0), 0);
    table.tFoot.replaceChildren(el('tr', {},
      el('th', { scope: 'row' }, t('dash.sc.total')),
      el('td', {}, fmtNumber(total)),
      el('td', {}, fmtPercent(metrics.length ? 1 : null)),
      shown ? el('td', {}, fmtNumber(shown.points_mean)) : null));
    $('dsc-quality').textContent = t('dash.sc.quality', { share: fmtPercent(r.quality_share) });
  }

  renderTeam(r, team) {
    const suppressed = Boolean(team?.suppressed);
    $('dsc-suppressed').hidden = !suppressed;
    $('dsc-suppressed').textContent = suppressed
      ? t('dash.sc.suppressed', { min: Number(team.min_group) || 0 })
      : '';
    $('dsc-team').hidden = !team || suppressed;
    $('dsc-challenges-block').hidden = !team || suppressed;
    if (!team || suppressed) {
      $('dsc-team').replaceChildren();
      $('dsc-challenges').replaceChildren();
      return;
    }
    const max = (r.metrics || []).reduce((sum, m) => sum + (Number(m.max_points) || 0), 0);
    const fact = (key, figure, text) => el('div', {},
      el('dt', {}, t(key)), el('dd', { dataset: { figure } }, text));
    $('dsc-team').replaceChildren(
      fact('dash.sc.team.group', 'group_size', fmtNumber(team.group_size, 0)),
      fact('dash.sc.team.service_level', 'service_level',
        t('dash.sc.team.share_of', { value: fmtPercent(team.service_level), n: Number(team.service_level_n) || 0 })),
      fact('dash.sc.team.csat', 'csat',
        t('dash.sc.team.answers', { value: fmtPercent(team.csat), n: Number(team.csat_n) || 0 })),
      fact('dash.sc.team.rating', 'rating_mean',
        t('dash.sc.team.answers', { value: fmtNumber(team.rating_mean), n: Number(team.csat_n) || 0 })),
      fact('dash.sc.team.points', 'points_mean', team.points_mean === null || team.points_mean === undefined
        ? t('dash.sc.team.points_none')
        : t('dash.sc.team.points_value', { points: fmtNumber(team.points_mean), max: fmtNumber(max) })),
    );
    const challenges = team.challenges || [];
    $('dsc-challenges-none').hidden = challenges.length > 0;
    $('dsc-challenges').replaceChildren(...challenges.map((ch) => challengeBlock(ch, 'dsc-ch')));
  }

  snapshot() {
    return {
      scorecard: {
        rules: this.rules ? JSON.parse(JSON.stringify(this.rules)) : null,
        team: this.team ? JSON.parse(JSON.stringify(this.team)) : null,
        error: this.error?.key ?? null,
        loads: this.loads,
      },
    };
  }
}

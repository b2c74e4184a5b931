// Drawing the dashboard JSON (GET /api/insight/dashboard): per-service cards,
// today's table, the three charts with their tables and summaries, kiosk
// satisfaction, alerts, and the cases behind a bar, point or row.
//
//   const board = new Board({ onCases: ({ day, service, hour, metric }, what) => ... });
//   board.render(data);        // every poll
//   board.rerender();          // after a language switch
//   board.showCases(query, what, cases | null);

import { getLanguage, has, localName, t } from '../core/i18n.js';
import { alertSentence, formatDuration, formatNumber, formatPercent } from '../features/insight/text.js';
import { Chart } from './charts.js';

const $ = (id) => document.getElementById(id);

const COLORS = { volume: '#0c4a6e', level: '#0b6e4f', csat: '#9d174d' };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** "09:00" for an hour of the day. */
export function hourLabel(h) {
  return `${String(h).padStart(2, '0')}:00`;
}

/** A local date "2026-12-02" as the reader writes it, short ("2 Dec"). */
export function dayLabel(iso, long = false) {
  const [y, m, d] = String(iso).split('-').map(Number);
  if (!y || !m || !d) return String(iso);
  const opts = long ? { day: 'numeric', month: 'long', year: 'numeric' } : { day: 'numeric', month: 'short' };
  return new Intl.DateTimeFormat(getLanguage(), { ...opts, timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A button for a table row: visible "Show cases", named with the row too. */
function casesButton(what, onClick) {
  const b = el('button', { type: 'button', class: 'secondary' }, t('dash.show_cases'),
    el('span', { class: 'visually-hidden' }, ` – ${what}`));
  b.addEventListener('click', onClick);
  return b;
}

/** Lowest and highest non-null value of `values`, with their indices. */
function extremes(values) {
  let min = null, max = null;
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    if (min === null || v < values[min]) min = i;
    if (max === null || v > values[max]) max = i;
  });
  return { min, max };
}

export class Board {
  constructor({ onCases }) {
    this.onCases = onCases;
    this.data = null;
    this.cases = null; // {query, what, cases}
    this.charts = {
      hourly: new Chart($('hourly-chart'), {
        kind: 'bars', color: COLORS.volume, xLabel: hourLabel, yFormat: (v) => formatNumber(v),
        onPick: (i) => this.pickHour(i),
      }),
      level: new Chart($('level-chart'), {
        kind: 'line', color: COLORS.level, yMax: 1, xLabel: (i) => dayLabel(this.data?.trend.days[i]),
        yFormat: (v) => formatPercent(v), onPick: (i) => this.pickDay(i, 'breached'),
      }),
      csat: new Chart($('csat-chart'), {
        kind: 'line', color: COLORS.csat, yMax: 1, xLabel: (i) => dayLabel(this.data?.trend.days[i]),
        yFormat: (v) => formatPercent(v), onPick: (i) => this.pickDay(i, 'rated_low'),
      }),
    };
  }

  /** A service's name in the reader's language (from the data when it has names). */
  serviceName(id) {
    const s = (this.data?.services || []).find((x) => x.id === id);
    const names = s?.name ?? s?.names;
    const name = names ? localName(names) : id;
    return s?.letter ? `${s.letter} ${name}` : name;
  }

  render(data) {
    this.data = data;
    this.renderNow();
    this.renderToday();
    this.renderHourly();
    this.renderLevel();
    this.renderCsat();
    this.renderKiosk();
    this.renderAlerts();
  }

  rerender() {
    if (!this.data) return;
    for (const c of Object.values(this.charts)) c.rebuild();
    this.render(this.data);
    if (this.cases) this.showCases(this.cases.query, this.cases.whatFn, this.cases.cases);
  }

  // -- right now ------------------------------------------------------------

  renderNow() {
    const d = this.data;
    $('now-summary').textContent = t('dash.now.summary', {
      queue: d.totals?.queue_length ?? 0,
      staff: d.totals?.staff_on_duty ?? 0,
      open: d.open ? 'yes' : 'no',
    });
    $('now-summary').dataset.queue = String(d.totals?.queue_length ?? 0);
    $('service-cards').replaceChildren(...(d.services || []).map((s) => this.card(s)));
  }

  card(s) {
    const over = s.current_wait_s !== null && s.target_wait_s && s.current_wait_s > s.target_wait_s;
    const headingId = `card-${s.id}`;
    const wait = s.queue_length > 0 || s.current_wait_s
      ? [
        t('dash.card.wait_value', { wait: formatDuration(s.current_wait_s ?? 0), target: formatDuration(s.target_wait_s) }),
        ' ',
        el('span', { class: over ? 'over-target' : 'within-target' }, t(over ? 'dash.card.over' : 'dash.card.within')),
      ]
      : [t('dash.card.wait_value', { wait: formatDuration(0), target: formatDuration(s.target_wait_s) })];
    const fact = (key, figure, ...value) => el('div', {},
      el('dt', {}, t(key)), el('dd', { dataset: { figure } }, ...value));
    const button = el('button', { type: 'button', class: 'secondary' }, t('dash.card.cases'),
      el('span', { class: 'visually-hidden' }, ` – ${this.serviceName(s.id)}`));
    button.addEventListener('click', () => this.onCases(
      { day: this.data.day, service: s.id, metric: 'volume' },
      () => t('dash.what.service_today', { service: this.serviceName(s.id) }),
    ));
    return el('article', { class: 'service-card', 'aria-labelledby': headingId, dataset: { service: s.id, over: String(Boolean(over)) } },
      el('h3', { id: headingId }, this.serviceName(s.id)),
      el('dl', { class: 'facts' },
        fact('dash.card.queue', 'queue_length', el('span', { class: 'figure-big' }, formatNumber(s.queue_length))),
        fact('dash.card.wait', 'current_wait', ...wait),
        fact('dash.card.staff', 'staff_on_duty', t('dash.card.staff_value', {
          n: formatNumber(s.staff_on_duty), available: formatNumber(s.staff_available ?? 0),
        }))),
      button);
  }

  // -- today's table ----------------------------------------------------------

  renderToday() {
    const table = $('today-table');
    const cols = [
      ['volume', (x) => formatNumber(x.volume)],
      ['served', (x) => formatNumber(x.served)],
      ['no_show', (x) => formatNumber(x.no_show)],
      ['left', (x) => formatNumber(x.left)],
      ['service_level', (x) => formatPercent(x.service_level)],
      ['wait_median', (x) => formatDuration(x.wait_s?.median)],
      ['wait_p90', (x) => formatDuration(x.wait_s?.p90)],
      ['handle_median', (x) => formatDuration(x.handle_s?.median)],
      ['csat', (x) => formatPercent(x.csat)],
      ['csat_n', (x) => formatNumber(x.csat_n)],
    ];
    const raw = (x, key) => ({ wait_median: x.wait_s?.median, wait_p90: x.wait_s?.p90, handle_median: x.handle_s?.median }[key] ?? x[key]);
    const row = (label, summary, cell, group) => el('tr', { dataset: { group } },
      el('th', { scope: 'row' }, label),
      ...cols.map(([key, fmt]) => el(cell, { dataset: { metric: key, value: String(raw(summary, key) ?? '') } }, fmt(summary))));
    table.tHead.replaceChildren(el('tr', {},
      el('th', { scope: 'col' }, t('dash.col.service')),
      ...cols.map(([key]) => el('th', { scope: 'col' }, t(`dash.col.${key}`)))));
    const services = this.data.services || [];
    table.tBodies[0].replaceChildren(...services.map((s) => row(this.serviceName(s.id), s.today || {}, 'td', s.id)));
    const total = this.data.totals?.today || {};
    table.tFoot.replaceChildren(row(t('dash.total'), total, 'td', 'total'));
  }

  // -- today by hour --------------------------------------------------------------

  hourlyTotals() {
    const volume = this.data.hourly?.volume || {};
    const hours = this.data.hourly?.hours || [...Array(24).keys()];
    return hours.map((_, i) => Object.values(volume).reduce((sum, v) => sum + (Number(v[i]) || 0), 0));
  }

  renderHourly() {
    const hours = this.data.hourly?.hours || [...Array(24).keys()];
    const totals = this.hourlyTotals();
    const total = totals.reduce((a, b) => a + b, 0);
    let summary = t('dash.hourly.none');
    if (total > 0) {
      const busiest = totals.indexOf(Math.max(...totals));
      summary = t('dash.hourly.summary', { total, hour: hourLabel(hours[busiest]), n: totals[busiest] });
    }
    $('hourly-summary').textContent = summary;
    this.charts.hourly.set(hours.map((_, i) => i), totals, t('dash.hourly.chart', { summary }));

    const services = Object.keys(this.data.hourly?.volume || {});
    const table = $('hourly-table');
    table.tHead.replaceChildren(el('tr', {},
      el('th', { scope: 'col' }, t('dash.col.hour')),
      ...services.map((s) => el('th', { scope: 'col' }, this.serviceName(s))),
      el('th', { scope: 'col' }, t('dash.col.total')),
      el('th', { scope: 'col' }, t('dash.col.cases'))));
    const rows = hours.map((h, i) => ({ h, i })).filter(({ i }) => totals[i] > 0);
    table.tBodies[0].replaceChildren(...(rows.length ? rows.map(({ h, i }) => el('tr', { dataset: { hour: String(h) } },
      el('th', { scope: 'row' }, hourLabel(h)),
      ...services.map((s) => el('td', {}, formatNumber(this.data.hourly.volume[s][i]))),
      el('td', { dataset: { metric: 'volume' } }, formatNumber(totals[i])),
      el('td', {}, casesButton(hourLabel(h), () => this.pickHour(i)))))
      : [el('tr', {}, el('td', { colspan: String(services.length + 3) }, t('dash.hourly.none')))]));
  }

  pickHour(i) {
    const h = (this.data.hourly?.hours || [])[i] ?? i;
    this.onCases({ day: this.data.day, hour: h, metric: 'volume' }, () => t('dash.what.hour', { hour: hourLabel(h) }));
  }

  pickDay(i, metric) {
    const day = this.data.trend.days[i];
    const key = metric === 'breached' ? 'dash.what.day_breached' : metric === 'rated_low' ? 'dash.what.day_low' : 'dash.what.day_volume';
    this.onCases({ day, metric }, () => t(key, { day: dayLabel(day, true) }));
  }

  // -- trends -----------------------------------------------------------------------

  renderLevel() {
    const { days, service_level: level = [], volume = [] } = this.data.trend || { days: [] };
    const n = days.length;
    const { min, max } = extremes(level);
    const summary = min === null
      ? t('dash.level.none', { days: n })
      : t('dash.level.summary', {
        days: n,
        min: formatPercent(level[min]), min_day: dayLabel(days[min]),
        max: formatPercent(level[max]), max_day: dayLabel(days[max]),
        today: formatPercent(level[n - 1]),
      });
    $('level-summary').textContent = summary;
    this.charts.level.set(days.map((_, i) => i), level, t('dash.level.chart', { summary }));
    this.trendTable($('level-table'), days, [
      ['service_level', (i) => formatPercent(level[i])],
      ['volume', (i) => formatNumber(volume[i])],
    ], 'breached');
  }

  renderCsat() {
    const { days, csat = [], csat_n: counts = [] } = this.data.trend || { days: [] };
    const n = days.length;
    const answers = counts.reduce((a, b) => a + (Number(b) || 0), 0);
    const satisfied = csat.reduce((a, v, i) => a + (v === null ? 0 : v * (Number(counts[i]) || 0)), 0);
    const { min } = extremes(csat);
    const summary = answers === 0 || min === null
      ? t('dash.csat.none', { days: n })
      : t('dash.csat.summary', {
        share: formatPercent(satisfied / answers), n: answers, days: n,
        min_day: dayLabel(days[min]), min: formatPercent(csat[min]),
      });
    $('csat-summary').textContent = summary;
    this.charts.csat.set(days.map((_, i) => i), csat, t('dash.csat.chart', { summary }));
    this.trendTable($('csat-table'), days, [
      ['csat', (i) => formatPercent(csat[i])],
      ['csat_n', (i) => formatNumber(counts[i])],
    ], 'rated_low');
  }

  trendTable(table, days, cols, metric) {
    table.tHead.replaceChildren(el('tr', {},
      el('th', { scope: 'col' }, t('dash.col.day')),
      ...cols.map(([key]) => el('th', { scope: 'col' }, t(`dash.col.${key}`))),
      el('th', { scope: 'col' }, t('dash.col.cases'))));
    table.tBodies[0].replaceChildren(...days.map((day, i) => el('tr', { dataset: { day } },
      el('th', { scope: 'row' }, dayLabel(day, true)),
      ...cols.map(([key, fmt]) => el('td', { dataset: { metric: key } }, fmt(i))),
      el('td', {}, casesButton(dayLabel(day, true), () => this.pickDay(i, metric))))));
  }

  renderKiosk() {
    const k = this.data.kiosk || {};
    $('kiosk-summary').textContent = k.n
      ? t('dash.kiosk.summary', { share: formatPercent(k.csat), n: k.n })
      : t('dash.kiosk.none');
  }

  renderAlerts() {
    const alerts = this.data.alerts || [];
    $('dash-alerts-none').hidden = alerts.length > 0;
    $('dash-alerts').replaceChildren(...alerts.map((a) => el('li', { dataset: { state: a.state, kind: a.kind, fingerprint: a.fingerprint } },
      alertSentence(a, (id) => this.serviceName(id), this.data.timezone),
      a.silenced ? ` ${t('dash.alerts.silenced')}` : null)));
  }

  // -- cases ----------------------------------------------------------------------------

  /** cases: null while loading, else the list from /api/insight/cases. */
  showCases(query, whatFn, cases) {
    this.cases = { query, whatFn, cases };
    const what = whatFn();
    const table = $('cases-table');
    if (!cases) {
      $('cases-status').textContent = t('dash.cases.loading', { what });
      return;
    }
    $('cases-status').textContent = t('dash.cases.found', { n: cases.length, what });
    $('cases-wrap').hidden = cases.length === 0;
    $('cases-caption').textContent = t('dash.cases.caption', { what });
    const cols = ['ticket', 'service', 'desk', 'outcome', 'wait', 'handle'];
    table.tHead.replaceChildren(el('tr', {}, ...cols.map((c) => el('th', { scope: 'col' }, t(`dash.col.${c}`)))));
    const outcome = (o) => (o && has(`dash.outcome.${o}`) ? t(`dash.outcome.${o}`) : o || '–');
    table.tBodies[0].replaceChildren(...cases.map((c) => el('tr', { dataset: { ticket: c.ticket } },
      el('th', { scope: 'row' }, c.ticket),
      el('td', {}, c.service ? this.serviceName(c.service) : '–'),
      el('td', {}, c.desk || '–'),
      el('td', {}, outcome(c.outcome)),
      el('td', {}, formatDuration(c.wait_s)),
      el('td', {}, formatDuration(c.handle_s)))));
  }

  /** For the test hook. */
  snapshot() {
    return {
      charts: Object.fromEntries(Object.entries(this.charts).map(([k, c]) => [k, c.drawn])),
      cases: this.cases?.cases ? this.cases.cases.map((c) => c.ticket) : null,
    };
  }
}

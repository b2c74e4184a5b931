// A chart of the dashboard: uPlot bars or a line over index x values (hours
// 0..23, or the days of a trend), with a pick callback for a click on a bar or
// a point. The chart's container has role=img and the chart's one-sentence
// summary as its name; its data is also in an HTML table next to it (made by
// the caller), whose row buttons are the keyboard's way to pick.
//
//   const chart = new Chart(el, { kind: 'bars', color, xLabel: (i) => '09:00', yFormat, onPick: (i) => ... });
//   chart.set(xs, ys, summarySentence);   // draws (creates on first use)
//   chart.rebuild();                      // after a language switch (axis labels)

import uPlot from 'uplot';

const INK = '#111827';
const GRID = '#d1d5db';
const FONT = '12px system-ui, "Noto Sans", "Noto Sans CJK JP", sans-serif';

export class Chart {
  constructor(el, { kind = 'line', color = '#0c4a6e', xLabel = String, yFormat = String, yMax = null, onPick = null, height = 240 }) {
    this.el = el;
    this.kind = kind;
    this.color = color;
    this.xLabel = xLabel;
    this.yFormat = yFormat;
    this.yMax = yMax; // a fixed top (1 for shares), else from the data
    this.onPick = onPick;
    this.height = height;
    this.xs = [];
    this.ys = [];
    this.u = null;
    new ResizeObserver(() => {
      if (this.u) this.u.setSize({ width: this.width(), height: this.height });
    }).observe(el);
  }

  width() {
    return Math.max(280, Math.floor(this.el.clientWidth || 600));
  }

  /** New data (same or new length) and the sentence that sums it up. */
  set(xs, ys, summary) {
    this.xs = xs;
    this.ys = ys.map((v) => (v === null || v === undefined ? null : Number(v)));
    this.el.setAttribute('aria-label', summary);
    if (!this.u) this.create();
    else this.u.setData([this.xs, this.ys]);
  }

  rebuild() {
    if (this.u) this.create();
  }

  create() {
    this.u?.destroy();
    const bars = this.kind === 'bars';
    const yMax = this.yMax;
    const opts = {
      width: this.width(),
      height: this.height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false, setScale: false }, points: { size: 10 } },
      scales: {
        x: { time: false, range: (u, min, max) => [(min ?? 0) - 0.5, (max ?? 0) + 0.5] },
        y: { range: (u, min, max) => [0, yMax ?? Math.max(1, (max ?? 0) * 1.15)] },
      },
      axes: [
        {
          stroke: INK, font: FONT, grid: { show: false }, ticks: { stroke: GRID },
          incrs: [1, 2, 3, 4, 6, 7, 12, 14],
          space: bars ? 34 : 60,
          values: (u, splits) => splits.map((v) => (Number.isInteger(v) && v >= 0 && v < this.xs.length ? this.xLabel(v) : '')),
        },
        {
          stroke: INK, font: FONT, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID },
          size: 56,
          values: (u, splits) => splits.map((v) => this.yFormat(v)),
        },
      ],
      series: [
        {},
        bars
          ? { stroke: this.color, fill: this.color, width: 0, paths: uPlot.paths.bars({ size: [0.7, 48] }), points: { show: false } }
          : { stroke: this.color, width: 2.5, spanGaps: false, points: { show: true, size: 7, stroke: this.color, fill: '#ffffff', width: 2 } },
      ],
      hooks: {
        ready: [(u) => {
          u.over.addEventListener('click', () => {
            const i = u.cursor.idx;
            if (i !== null && i !== undefined && i >= 0 && i < this.xs.length) this.onPick?.(i);
          });
        }],
      },
    };
    this.u = new uPlot(opts, [this.xs, this.ys], this.el);
  }

  /** Is a uPlot canvas drawn? (the test hook) */
  get drawn() {
    return Boolean(this.el.querySelector('canvas'));
  }
}

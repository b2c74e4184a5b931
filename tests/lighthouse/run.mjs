// Lighthouse over the web client's pages, in a Chromium that is already running
// (tests/web/test_lighthouse.py starts Debian's Chromium with an empty profile and
// --remote-debugging-port, then runs this script once for all the pages).
//
//   node tests/lighthouse/run.mjs < plan.json
//
// plan.json: {"port": 9222, "categories": ["accessibility", "best-practices", "performance"],
//             "pages": [{"name": "hall", "url": "http://127.0.0.1:8000/",
//                        "then": {"fill": [["#join-name", "Lena"]], "press": ["#join-name", "Enter"],
//                                 "ready": "s.connected", "name": "hall joined"}}]}
//
// Each page is a Lighthouse user flow in a tab of its own, with Lighthouse's defaults
// (mobile emulation, a fresh origin storage): a navigation; and with "then", a wait
// until `waitBefore` holds (if given; JS over s = window.servicepoint.state()), the
// fields filled, the key pressed, a wait until `ready` holds, and a snapshot of the
// page as it is then (without performance: a snapshot has no load to time). For every step one JSON line goes
// to stdout: {"page", "mode", "scores": {category: 0..100}, "failing": {category:
// [{"id", "title", "score", "items": [selector or text, ...]}]}, "seconds"}, and for a
// navigation with performance, "metrics" (Lighthouse's simulated FCP, LCP, TBT, CLS).

import { readFileSync } from 'node:fs';
import { startFlow } from 'lighthouse';
import puppeteer from 'puppeteer-core';

const plan = JSON.parse(readFileSync(0, 'utf8'));
const categories = plan.categories ?? ['accessibility', 'best-practices'];
const WAIT_MS = 30_000;

function itemText(item) {
  const node = item.node ?? item.relatedNode ?? item.source ?? item;
  return node.selector || node.snippet || node.url || item.description || item.url || JSON.stringify(item).slice(0, 200);
}

function failing(lhr, category) {
  const out = [];
  for (const ref of lhr.categories[category]?.auditRefs ?? []) {
    const audit = lhr.audits[ref.id];
    if (!audit || audit.score === null || audit.score >= 1) continue;
    if (ref.weight === 0 && category !== 'best-practices') continue;
    const items = (audit.details?.items ?? []).slice(0, 8).map(itemText);
    out.push({ id: ref.id, title: audit.title, score: audit.score, weight: ref.weight, items });
  }
  return out;
}

function report(page, mode, lhr, seconds) {
  const scores = {}, fails = {};
  for (const c of Object.keys(lhr.categories)) {
    const score = lhr.categories[c].score;
    scores[c] = score === null ? null : Math.round(score * 100);
    fails[c] = failing(lhr, c);
  }
  const line = { page, mode, scores, failing: fails, seconds: Math.round(seconds * 10) / 10 };
  if (lhr.categories.performance) {
    const value = (id) => { const v = lhr.audits[id]?.numericValue; return v === undefined ? null : Math.round(v * 1000) / 1000; };
    line.metrics = {
      fcp_ms: value('first-contentful-paint'), lcp_ms: value('largest-contentful-paint'),
      tbt_ms: value('total-blocking-time'), cls: value('cumulative-layout-shift'), speed_index_ms: value('speed-index'),
    };
  }
  if (lhr.runtimeError) line.runtimeError = lhr.runtimeError;
  if (lhr.runWarnings?.length) line.warnings = lhr.runWarnings;
  process.stdout.write(JSON.stringify(line) + '\n');
}

// Lighthouse's own advice for these ("Something went wrong with recording the trace
// over your page load. Please run Lighthouse again."): a trace lost on a loaded machine
// says nothing about the page, so the page's flow runs once more; a second failure is
// reported as it is (and fails the test).
const RUN_AGAIN = new Set(['NO_NAVSTART', 'NO_TRACING_STARTED', 'NO_RESOURCE_REQUEST', 'NO_DCL', 'NO_FCP']);
const ATTEMPTS = 2;

async function audit(browser, p) {
  const tab = await browser.newPage();
  try {
    const t0 = performance.now();
    const flow = await startFlow(tab, {
      name: p.name,
      flags: { onlyCategories: p.categories ?? categories, logLevel: 'error' },
    });
    await flow.navigate(p.url);
    const t1 = performance.now();
    if (p.then) {
      await tab.waitForFunction('() => window.servicepoint !== undefined', { timeout: WAIT_MS });
      if (p.then.waitBefore) {
        await tab.waitForFunction(`() => { const s = window.servicepoint.state(); return Boolean(${p.then.waitBefore}); }`, { timeout: WAIT_MS });
      }
      for (const [selector, value] of p.then.fill ?? []) {
        await tab.$eval(selector, (el, v) => { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); }, value);
      }
      if (p.then.press) {
        await tab.focus(p.then.press[0]);
        await tab.keyboard.press(p.then.press[1]);
      }
      await tab.waitForFunction(`() => { const s = window.servicepoint.state(); return Boolean(${p.then.ready}); }`, { timeout: WAIT_MS });
      // A snapshot has no page load to time: its categories leave performance out.
      const later = (p.categories ?? categories).filter((c) => c !== 'performance');
      await flow.snapshot({ name: p.then.name, onlyCategories: later });
    }
    const t2 = performance.now();
    const steps = (await flow.createFlowResult()).steps;
    return { steps, navigation: (t1 - t0) / 1000, snapshot: (t2 - t1) / 1000 };
  } finally {
    await tab.close();
  }
}

const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${plan.port}`, defaultViewport: null });
try {
  for (const p of plan.pages) {
    let result;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      result = await audit(browser, p);
      const error = result.steps[0].lhr.runtimeError;
      if (!error || !RUN_AGAIN.has(error.code) || attempt === ATTEMPTS) break;
      process.stderr.write(`${p.name}: ${error.code}; running the page again\n`);
    }
    report(p.name, 'navigation', result.steps[0].lhr, result.navigation);
    if (result.steps[1]) report(p.then.name, 'snapshot', result.steps[1].lhr, result.snapshot);
  }
} finally {
  await browser.disconnect();
}

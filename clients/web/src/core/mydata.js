// "My data": a citizen's copy of what the service keeps about them, and erasure.
//
//   installMyData(app);   // the button in the top bar and the dialog (index.html)
//
// Protocol (core): `my_data` asks for the export, which comes back as `my_data`
// parts (part n of parts; joined in order they are one JSON document: one
// section per feature, keyed by kind of data); `my_data_erase` with confirm:
// true erases it, answered by `my_data_erased` {removed, anonymised} and then a
// close 4011 (ERASED), after which net.js forgets the citizen key and the resume
// token: the next connection is a new pseudonym.
//
// Only citizens (verified or not: the role is `citizen` either way) may send
// these, so the button is shown only to them. The dialog is a native modal
// <dialog>: the rest of the page is inert, Tab stays inside, Escape closes it,
// and the focus goes back to the button (or to the join form after erasure).
// Erasing needs two steps: "Erase my data…" opens the confirmation, whose
// checkbox "I understand" must be ticked before "Erase for good" sends it.
//
// Test hook: window.servicepoint.state().mydata =
//   {available, open, state, parts, summary, erased, error}
//   state: idle | loading | ready | confirming | erasing | erased

import { onLanguageChange, t } from './i18n.js';
import { storeCitizen } from '../net.js';

const $ = (id) => document.getElementById(id);

export const FILENAME = 'servicepoint-my-data.json';

/** Section (feature) names with a sentence; others are shown as they are in the file. */
function sectionName(name) {
  switch (name) {
    case 'chat': return t('mydata.section.chat');
    case 'desks': return t('mydata.section.desks');
    case 'feedback': return t('mydata.section.feedback');
    case 'qa': return t('mydata.section.qa');
    case 'events': return t('mydata.section.events');
    case 'greeter': return t('mydata.section.greeter');
    case 'moderation': return t('mydata.section.moderation');
    case 'blocks': return t('mydata.section.blocks');
    case 'identity': return t('mydata.section.identity');
    case 'audit': return t('mydata.section.audit');
    default: return name;
  }
}

/** How many records a kind holds: a list's length, a count as it is, else 0 or 1. */
function countOf(value) {
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value && typeof value === 'object') return Object.keys(value).length;
  return value ? 1 : 0;
}

/** {section: {kind: count}} of an export document (its `exported` time left out). */
export function summarise(doc) {
  const out = {};
  for (const [section, kinds] of Object.entries(doc ?? {})) {
    if (!kinds || typeof kinds !== 'object' || Array.isArray(kinds)) continue;
    out[section] = Object.fromEntries(Object.entries(kinds).map(([kind, v]) => [kind, countOf(v)]));
  }
  return out;
}

/** Offer `text` as a file download (a Blob behind a temporary <a download>). */
function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function installMyData(app) {
  const button = $('mydata-button');
  const dialog = $('mydata-dialog');
  if (!button || !dialog) return null; // a page without the panel
  const heading = $('mydata-heading');
  const live = $('mydata-live');
  const downloadButton = $('mydata-download');
  const summaryBox = $('mydata-summary');
  const summaryHeading = $('mydata-summary-heading');
  const summaryList = $('mydata-summary-list');
  const error = $('mydata-error');
  const eraseButton = $('mydata-erase');
  const eraseForm = $('mydata-erase-form');
  const understand = $('mydata-understand');
  const eraseError = $('mydata-erase-error');
  const erasedText = $('mydata-erased');

  const my = {
    available: false,
    state: 'idle',
    parts: null, // the parts received so far, while loading
    total: 0,
    summary: null,
    erased: null,
    error: null,
    eraseError: null,
  };

  /** The sentence for an error: the page's own ('offline', 'tick', 'bad_export') or the server's code. */
  function errorText(code) {
    switch (code) {
      case 'offline': return t('mydata.offline');
      case 'tick': return t('mydata.erase.tick');
      case 'bad_export': return t('mydata.download.failed');
      default: return app.errorText(code);
    }
  }

  function say(text) {
    live.textContent = '';
    setTimeout(() => { live.textContent = text; }, 50);
  }

  function showAvailable() {
    my.available = app.role === 'citizen' && Boolean(app.self);
    button.hidden = !my.available;
  }

  function render() {
    const busy = my.state === 'loading' || my.state === 'erasing';
    downloadButton.setAttribute('aria-busy', String(my.state === 'loading'));
    downloadButton.textContent = t(my.state === 'loading' ? 'mydata.download.loading' : 'mydata.download.button');
    downloadButton.disabled = my.state === 'erased';
    eraseButton.hidden = my.state === 'confirming' || my.state === 'erasing' || my.state === 'erased';
    eraseForm.hidden = !(my.state === 'confirming' || my.state === 'erasing');
    $('mydata-erase-confirm').setAttribute('aria-busy', String(my.state === 'erasing'));
    error.textContent = my.error ? errorText(my.error) : '';
    eraseError.textContent = my.eraseError ? errorText(my.eraseError) : '';
    if (my.eraseError === 'tick') understand.setAttribute('aria-invalid', 'true');
    else understand.removeAttribute('aria-invalid');

    summaryBox.hidden = !my.summary;
    summaryList.replaceChildren();
    if (my.summary) {
      const sections = Object.entries(my.summary);
      const records = sections.reduce((n, [, kinds]) => n + Object.values(kinds).reduce((a, b) => a + b, 0), 0);
      const holding = sections.filter(([, kinds]) => Object.values(kinds).some((count) => count > 0)).length;
      summaryHeading.textContent = t('mydata.summary.heading', { sections: holding, records });
      // What is held, kind by kind; then, on one line, the sections that hold nothing.
      const empty = [];
      for (const [section, kinds] of sections) {
        const held = Object.entries(kinds).filter(([, count]) => count > 0);
        if (!held.length) {
          empty.push(sectionName(section));
          continue;
        }
        const li = document.createElement('li');
        const name = document.createElement('strong');
        name.textContent = sectionName(section);
        li.append(name, ' — ', held.map(([kind, count]) => t('mydata.summary.kind', { kind, count })).join(', '));
        summaryList.append(li);
      }
      if (empty.length) {
        const li = document.createElement('li');
        li.className = 'mydata-none';
        li.textContent = t('mydata.summary.none', { sections: empty.join(', ') });
        summaryList.append(li);
      }
    }
    erasedText.hidden = !my.erased;
    erasedText.textContent = my.erased ? t('mydata.erased', my.erased) : '';
    dialog.dataset.busy = String(busy);
  }

  function open() {
    if (!my.available) return;
    if (my.state === 'erased') my.state = 'idle';
    my.error = null;
    render();
    if (!dialog.open) dialog.showModal();
    heading.focus();
  }

  function fail(code) {
    my.error = code;
    if (my.state === 'loading') my.state = my.summary ? 'ready' : 'idle';
    my.parts = null;
    render();
  }

  button.addEventListener('click', open);
  $('mydata-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    // Escape, "Close": a confirmation not yet sent is withdrawn.
    if (my.state === 'confirming') my.state = my.summary ? 'ready' : 'idle';
    my.eraseError = null;
    understand.checked = false;
    render();
    (button.hidden ? $('join-name') : button)?.focus();
  });

  downloadButton.addEventListener('click', () => {
    if (my.state === 'loading' || my.state === 'erasing' || my.state === 'erased') return;
    my.error = null;
    if (!app.send({ t: 'my_data' })) {
      fail('offline');
      return;
    }
    my.state = 'loading';
    my.parts = [];
    my.total = 0;
    render();
    say(t('mydata.download.loading'));
  });

  eraseButton.addEventListener('click', () => {
    my.state = 'confirming';
    my.eraseError = null;
    understand.checked = false;
    render();
    understand.focus();
  });
  $('mydata-erase-cancel').addEventListener('click', () => {
    my.state = my.summary ? 'ready' : 'idle';
    my.eraseError = null;
    render();
    eraseButton.focus();
  });
  understand.addEventListener('change', () => {
    if (understand.checked && my.eraseError === 'tick') {
      my.eraseError = null;
      render();
    }
  });
  eraseForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (my.state !== 'confirming') return;
    if (!understand.checked) {
      my.eraseError = 'tick';
      render();
      understand.focus();
      return;
    }
    if (!app.send({ t: 'my_data_erase', confirm: true })) {
      my.eraseError = 'offline';
      render();
      return;
    }
    my.state = 'erasing';
    my.eraseError = null;
    render();
    say(t('mydata.erase.sending'));
  });

  app.on('my_data', (msg) => {
    if (my.state !== 'loading') return; // not asked for (or asked before a reconnect)
    if (msg.part === 1) my.parts = [];
    my.parts.push(msg.data);
    my.total = msg.parts;
    if (my.parts.length < msg.parts) return;
    const text = my.parts.join('');
    my.parts = null;
    let doc;
    try {
      doc = JSON.parse(text);
    } catch {
      fail('bad_export');
      return;
    }
    my.summary = summarise(doc);
    my.state = 'ready';
    download(FILENAME, JSON.stringify(doc, null, 2));
    render();
    say(`${t('mydata.download.done')} ${summaryHeading.textContent}`);
  });

  app.on('my_data_erased', (msg) => {
    // The identity is not used again (net.js also forgets it on the close that follows).
    storeCitizen(null);
    my.erased = { removed: Number(msg.removed) || 0, anonymised: Number(msg.anonymised) || 0 };
    my.state = 'erased';
    my.summary = null;
    understand.checked = false;
    render();
    focusResult();
    say(erasedText.textContent);
  });

  /** After an erasure, the result takes the focus (unless the dialog was closed). */
  function focusResult() {
    if (dialog.open && my.state === 'erased') erasedText.focus();
  }

  for (const ref of ['my_data', 'my_data_erase']) {
    app.onError(ref, (msg) => {
      if (ref === 'my_data') {
        fail(msg.code);
      } else {
        my.state = 'confirming';
        my.eraseError = msg.code;
        render();
      }
      return true;
    });
  }

  app.onWelcome(() => {
    // A reconnect loses a request in flight: the button is ready to ask again.
    if (my.state === 'loading') fail(null);
    showAvailable();
  });
  app.onJoined(() => {
    if (my.state === 'erased') {
      my.state = 'idle'; // joined again after an erasure: a new pseudonym with nothing yet
      my.erased = null;
    }
    showAvailable();
    render();
  });
  app.onLeft(() => {
    showAvailable();
    my.parts = null;
    if (my.state === 'loading' || my.state === 'erasing' || my.state === 'confirming') my.state = 'idle';
    // After an erasure the dialog stays open with its result; otherwise it closes.
    if (dialog.open && my.state !== 'erased') dialog.close();
    my.summary = null;
    render();
    // Another modal above this one (a survey for the ticket the erasure gave up) closes
    // on the same hook, and the focus it hands back is gone: take it to the result again.
    setTimeout(focusResult, 0);
  });
  onLanguageChange(render);

  app.expose(() => ({
    mydata: {
      available: my.available,
      open: dialog.open,
      state: my.state,
      parts: my.parts ? { got: my.parts.length, of: my.total } : null,
      summary: my.summary,
      erased: my.erased,
      error: my.error ?? my.eraseError,
    },
  }));
  render();
  return { open };
}

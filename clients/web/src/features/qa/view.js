// The Q&A wall's user interface, shared by the in-world panel (a dialog in the
// hall) and the standalone page (/qa.html): search as you type, the full search
// with filters, a topic with its answers, posting, replying, voting, accepting,
// flagging; for staff the official answer, moderation, status, merge, revisions
// and the queue of questions waiting for an official answer; "my questions and
// data" (export, erase).
//
//   const view = new QaView({ root, send, world: () => w, role: () => r, mode: 'panel' | 'page',
//                             level: 2, href: (route) => url, navigate: (route) => {} });
//   view.open({ view: 'topic', id: 12 });     // home | post | topic | mine | queue
//   view.handle(msg);                         // every qa_* message from the server
//   view.error(msg) -> bool;                  // an `error` whose ref is a qa_* message
//
// Text from the server is only ever put in text nodes (textContent): a post can
// never add markup. The official answer's badge (icon, "Official answer", the
// staff member's name and service) is drawn from the server's `official` object
// (an answer excerpt's `official` flag and `staff_name`) and from nothing else.
//
// Strings: features/qa/messages/<lang>.json (keys qa.*).

import { LANGS, clockTime, getLanguage, langName, localName, onLanguageChange, t } from '../../core/i18n.js';
import { acceptedIcon, download, h, officialIcon, option, say, splitAt, utf16Index } from './dom.js';
import { storeCitizen } from '../../net.js';

export const TYPES = ['question', 'idea', 'problem', 'praise', 'announcement'];
export const STATUSES = ['open', 'answered', 'official', 'closed', 'archived'];
export const FLAG_REASONS = ['spam', 'abuse', 'personal_data', 'off_topic'];
const STAFF = new Set(['staff', 'admin']);
/** Characters typed before search as you type starts, and the pause it waits for. */
export const MIN_CHARS = 3;
export const DEBOUNCE_MS = 150;
const MAX_TITLE = 160;
const MAX_BODY = 5000;
const KNOWN_FINDINGS = new Set(['personnummer', 'samordningsnummer', 'cpr', 'steuer_idnr', 'my_number', 'phone', 'email']);
const FIELD_ERRORS = new Set(['bad_field', 'out_of_range', 'missing_field', 'too_long', 'too_short']);

function fmtDate(ts) {
  try {
    return new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ts * 1000));
  } catch {
    return clockTime(ts);
  }
}

function fmtNumber(n) {
  return new Intl.NumberFormat(getLanguage()).format(Number(n) || 0);
}

export class QaView {
  constructor({ root, send, world, role, mode = 'panel', level = 2, href, navigate, announce, idPrefix = 'qa' }) {
    this.root = root;
    this.send = send;
    this.world = world;
    this.role = role;
    this.mode = mode;
    this.level = level;
    this.hrefOf = href;
    this.navigate = navigate;
    this.announceOut = announce;
    this.px = idPrefix;
    this.route = { view: 'home' };
    this.ref = 0;
    // search
    this.q = '';
    this.filters = { type: '', service: '', status: '', lang: '' };
    this.searchRef = null;
    this.results = null; // {q, hits, total}
    this.timer = null;
    // posting
    this.pending = new Map(); // ref -> 'post' | 'reply' | 'edit'
    this.held = null; // {form, findings}
    this.posted = null; // the last qa_posted post (pending notice)
    // topic
    this.topic = null;
    this.replies = [];
    this.redirectedFrom = null;
    this.loadingTopic = null;
    this.replyTo = null; // a top-level reply id, or null (the topic)
    this.tool = null; // {kind: flag | moderate | edit | revisions | merge | set, post}
    this.revisions = new Map();
    // staff and personal views
    this.queue = null;
    this.mine = null;
    this.exportData = null;
    this.erased = null;
    this.confirmErase = false;
    this.errors = {}; // area -> {code, text}
    this.build();
    onLanguageChange(() => this.rebuild());
  }

  // --- helpers ---------------------------------------------------------------------------
  id(name) { return `${this.px}-${name}`; }
  $(name) { return this.root.querySelector(`#${this.id(name)}`); }
  get isStaff() { return STAFF.has(this.role?.() ?? ''); }
  heading(text, attrs = {}, sub = 0) { return h(`h${Math.min(6, this.level + sub)}`, attrs, text); }
  nextRef() { this.ref = (this.ref + 1) % 2 ** 31; return this.ref; }

  services() { return this.world?.()?.services || []; }
  serviceName(id) {
    const s = this.services().find((x) => x.id === id);
    return s ? localName(s.name) : (id || '');
  }
  typeName(type) { return TYPES.includes(type) ? t(`qa.type.${type}`) : type; }
  statusName(status) { return STATUSES.includes(status) ? t(`qa.status.${status}`) : status; }
  authorName(post) { return post.erased || !post.author_name ? t('qa.former') : post.author_name; }

  /** A link to a route; in the panel it opens the route in place (the address is qa.html's). */
  link(route, text, attrs = {}) {
    const a = h('a', { href: this.hrefOf(route), ...attrs }, text);
    if (this.mode === 'panel') {
      a.addEventListener('click', (e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return; // a new tab: the page
        e.preventDefault();
        this.open(route);
      });
    }
    return a;
  }

  go(route) {
    if (this.navigate) this.navigate(route);
    else this.open(route);
  }

  announce(text) {
    say(this.$('live'), text);
  }

  /** Send, clearing the area's error; shows "not connected" when it could not be sent. */
  act(area, msg) {
    this.setError(area, null);
    const ok = this.send(msg);
    if (!ok) this.setError(area, 'offline');
    return ok;
  }

  setError(area, code, reason) {
    if (code) this.errors[area] = { code, reason };
    else delete this.errors[area];
    const el = this.$(`${area}-error`);
    if (el) el.textContent = code ? this.errorText(code) : '';
  }

  errorText(code) {
    if (code === 'offline') return t('qa.offline');
    if (FIELD_ERRORS.has(code)) return t('qa.invalid', { title: MAX_TITLE, body: MAX_BODY });
    const key = `error.${code}`;
    const text = t(key);
    return text === key ? t('error.generic', { code }) : text;
  }

  /** Re-render keeping the focus on the control with the same data-key (or its view heading). */
  keepFocus(fn) {
    const active = document.activeElement;
    const inside = active && this.root.contains(active);
    const key = inside ? active.dataset?.key : null;
    const id = inside ? active.id : null;
    let sel = null;
    try { sel = inside && typeof active.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : null; } catch { /* not a text field */ }
    fn();
    if (!key && !id) return;
    const again = key ? this.root.querySelector(`[data-key="${CSS.escape(key)}"]`) : this.root.querySelector(`#${CSS.escape(id)}`);
    if (again && again !== document.activeElement) {
      again.focus();
      if (sel && 'setSelectionRange' in again) {
        try { again.setSelectionRange(...sel); } catch { /* not a text field */ }
      }
    }
  }

  // --- building ---------------------------------------------------------------------------
  build() {
    const nav = h('nav', { class: 'qa-nav', 'aria-labelledby': this.id('nav-label') },
      h('span', { id: this.id('nav-label'), class: 'visually-hidden', 'data-i18n': 'qa.nav' }, t('qa.nav')),
      h('ul', { class: 'qa-nav-list', id: this.id('nav-list') }));
    this.sections = {
      home: h('section', { id: this.id('home'), class: 'qa-view', 'aria-labelledby': this.id('home-heading') }),
      post: h('section', { id: this.id('post'), class: 'qa-view', 'aria-labelledby': this.id('post-heading'), hidden: true }),
      topic: h('section', { id: this.id('topic'), class: 'qa-view', 'aria-labelledby': this.id('topic-title'), hidden: true }),
      mine: h('section', { id: this.id('mine'), class: 'qa-view', 'aria-labelledby': this.id('mine-heading'), hidden: true }),
      queue: h('section', { id: this.id('queue'), class: 'qa-view', 'aria-labelledby': this.id('queue-heading'), hidden: true }),
    };
    this.root.classList.add('qa');
    this.root.replaceChildren(
      h('p', { id: this.id('live'), class: 'visually-hidden', role: 'status', 'aria-live': 'polite' }),
      nav,
      ...Object.values(this.sections),
    );
    this.buildHome();
    this.buildPost();
    this.renderAll();
  }

  /** After a language switch: the static parts again, with what was typed kept. */
  rebuild() {
    const keep = {};
    for (const el of [...this.sections.home.querySelectorAll('input, textarea'), ...this.sections.post.querySelectorAll('input, textarea, select')]) keep[el.id] = el.value;
    const open = this.$('filters')?.open;
    this.buildHome();
    this.buildPost();
    this.renderPostForm();
    for (const [id, value] of Object.entries(keep)) {
      const el = this.root.querySelector(`#${CSS.escape(id)}`);
      if (el) el.value = value;
    }
    if (open !== undefined) this.$('filters').open = open;
    this.renderAll();
  }

  renderNav() {
    const items = [
      [{ view: 'home' }, 'qa.nav.search'],
      [{ view: 'post' }, 'qa.nav.ask'],
      [{ view: 'mine' }, 'qa.nav.mine'],
    ];
    if (this.isStaff) items.push([{ view: 'queue' }, 'qa.nav.queue']);
    this.$('nav-list').replaceChildren(...items.map(([route, key]) => {
      const a = this.link(route, t(key), { dataset: { key: `nav-${route.view}`, nav: route.view } });
      if (route.view === this.route.view) a.setAttribute('aria-current', 'page');
      return h('li', {}, a);
    }));
  }

  buildHome() {
    const s = this.sections.home;
    const select = (name, labelKey) => h('div', { class: 'field qa-filter' },
      h('label', { for: this.id(`f-${name}`) }, t(labelKey)),
      h('select', { id: this.id(`f-${name}`), name, dataset: { key: `f-${name}` } }));
    const form = h('form', { class: 'qa-search', role: 'search', 'aria-labelledby': this.id('home-heading'), novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: this.id('q'), id: this.id('q-label') }, t('qa.search.label')),
        h('input', {
          id: this.id('q'), name: 'q', type: 'search', maxlength: 200, autocomplete: 'off', spellcheck: 'true',
          'aria-describedby': this.id('q-hint'), 'aria-controls': this.id('results'), dataset: { key: 'q' },
        }),
        h('p', { id: this.id('q-hint'), class: 'hint' }, t('qa.search.hint', { n: MIN_CHARS }))),
      h('details', { class: 'qa-filters', id: this.id('filters'), open: this.mode === 'page' },
        h('summary', {}, t('qa.filters')),
        h('div', { class: 'qa-filter-row' },
          select('type', 'qa.filter.type'),
          select('service', 'qa.filter.service'),
          select('status', 'qa.filter.status'),
          select('lang', 'qa.filter.lang'))),
      h('button', { type: 'submit', class: 'primary', id: this.id('search-submit'), dataset: { key: 'search-submit' } }, t('qa.search.submit')));
    s.replaceChildren(
      this.heading(t('qa.home.heading'), { id: this.id('home-heading'), tabindex: '-1' }),
      form,
      h('p', { id: this.id('search-error'), class: 'error', role: 'alert' }),
      h('p', { id: this.id('count'), class: 'qa-count', role: 'status', 'aria-live': 'polite' }),
      h('ol', { id: this.id('results'), class: 'qa-results', 'aria-labelledby': this.id('count') }),
      h('div', { id: this.id('continue'), class: 'qa-continue', hidden: true },
        h('p', { id: this.id('continue-text') }),
        h('button', { type: 'button', class: 'primary', id: this.id('continue-button'), dataset: { key: 'continue' } }, t('qa.continue'))),
    );
    const input = this.$('q');
    input.addEventListener('input', () => this.typed());
    form.addEventListener('submit', (e) => { e.preventDefault(); this.search(true); });
    for (const name of ['type', 'service', 'status', 'lang']) {
      this.$(`f-${name}`).addEventListener('change', (e) => {
        this.filters[name] = e.target.value;
        this.search(true);
      });
    }
    this.$('continue-button').addEventListener('click', () => {
      this.titleDraft = this.$('q').value.trim();
      this.go({ view: 'post' });
    });
  }

  renderFilters() {
    const fill = (name, anyKey, values) => {
      const sel = this.$(`f-${name}`);
      sel.replaceChildren(option('', t(anyKey)), ...values.map(([v, text]) => option(v, text)));
      sel.value = values.some(([v]) => v === this.filters[name]) ? this.filters[name] : '';
    };
    fill('type', 'qa.filter.any_type', TYPES.map((x) => [x, this.typeName(x)]));
    fill('service', 'qa.filter.any_service', this.services().map((x) => [x.id, localName(x.name)]));
    fill('status', 'qa.filter.any_status', STATUSES.map((x) => [x, this.statusName(x)]));
    fill('lang', 'qa.filter.any_lang', LANGS.map((x) => [x, langName(x)]));
  }

  buildPost() {
    const s = this.sections.post;
    const form = h('form', { id: this.id('post-form'), class: 'qa-post-form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: this.id('p-type') }, t('qa.post.type')),
        h('select', { id: this.id('p-type'), name: 'type', dataset: { key: 'p-type' } })),
      h('div', { class: 'field' },
        h('label', { for: this.id('p-title') }, t('qa.post.title')),
        h('input', { id: this.id('p-title'), name: 'title', type: 'text', maxlength: MAX_TITLE, required: true, autocomplete: 'off', dataset: { key: 'p-title' }, 'aria-describedby': this.id('p-title-mirror') }),
        h('p', { id: this.id('p-title-mirror'), class: 'qa-mirror', hidden: true })),
      h('div', { class: 'field' },
        h('label', { for: this.id('p-body') }, t('qa.post.body')),
        h('textarea', { id: this.id('p-body'), name: 'body', rows: 6, maxlength: MAX_BODY, required: true, dataset: { key: 'p-body' }, 'aria-describedby': `${this.id('p-body-hint')} ${this.id('p-body-mirror')}` }),
        h('p', { id: this.id('p-body-hint'), class: 'hint' }, t('qa.post.privacy')),
        h('p', { id: this.id('p-body-mirror'), class: 'qa-mirror', hidden: true })),
      h('div', { class: 'field' },
        h('label', { for: this.id('p-service') }, t('qa.post.service')),
        h('select', { id: this.id('p-service'), name: 'service', dataset: { key: 'p-service' } })),
      h('div', { class: 'field' },
        h('label', { for: this.id('p-lang') }, t('qa.post.lang')),
        h('select', { id: this.id('p-lang'), name: 'lang', dataset: { key: 'p-lang' } })),
      this.mode === 'page' ? h('div', { class: 'field' },
        h('label', { for: this.id('p-name') }, t('qa.post.name')),
        h('input', { id: this.id('p-name'), name: 'name', type: 'text', maxlength: 32, autocomplete: 'nickname', dataset: { key: 'p-name' }, 'aria-describedby': this.id('p-name-hint') }),
        h('p', { id: this.id('p-name-hint'), class: 'hint' }, t('qa.post.name_hint'))) : null,
      h('div', { id: this.id('post-held'), class: 'qa-held', role: 'alert', tabindex: '-1', hidden: true }),
      h('p', { id: this.id('post-error'), class: 'error', role: 'alert' }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: this.id('p-submit'), dataset: { key: 'p-submit' } }, t('qa.post.submit')),
        this.link({ view: 'home' }, t('qa.post.cancel'), { class: 'qa-button-link', dataset: { key: 'p-cancel' } })));
    s.replaceChildren(
      this.heading(t('qa.post.heading'), { id: this.id('post-heading'), tabindex: '-1' }),
      h('p', { class: 'hint', id: this.id('post-intro') }, t('qa.post.intro')),
      h('div', { id: this.id('post-similar'), class: 'qa-similar', hidden: true }),
      form,
      h('p', { id: this.id('post-pending'), class: 'qa-note', role: 'status', hidden: true }));
    form.addEventListener('submit', (e) => { e.preventDefault(); this.submitPost(); });
    for (const field of ['title', 'body']) {
      this.$(`p-${field}`).addEventListener('input', () => this.clearHeld('post', field));
    }
    // While the title is written here too, topics like it (with an answer) are shown above the form.
    this.$('p-title').addEventListener('input', () => {
      clearTimeout(this.similarTimer);
      this.similarTimer = setTimeout(() => {
        const q = this.$('p-title').value.trim();
        if ([...q].length < MIN_CHARS) { this.similar = []; this.renderSimilar(); return; }
        const msg = { t: 'qa_search', q: [...q].slice(0, 200).join(''), ref: this.nextRef(), limit: 5, lang: this.$('p-lang').value || getLanguage() };
        if (this.send(msg)) this.similarRef = msg.ref;
      }, DEBOUNCE_MS);
    });
  }

  renderPostForm() {
    const keepType = this.$('p-type').value || 'question';
    const types = TYPES.filter((x) => x !== 'announcement' || this.isStaff);
    this.$('p-type').replaceChildren(...types.map((x) => option(x, this.typeName(x))));
    this.$('p-type').value = types.includes(keepType) ? keepType : 'question';
    const svc = this.$('p-service');
    const keepSvc = svc.value;
    svc.replaceChildren(option('', t('qa.post.no_service')), ...this.services().map((x) => option(x.id, localName(x.name))));
    svc.value = this.services().some((x) => x.id === keepSvc) ? keepSvc : '';
    const lang = this.$('p-lang');
    const keepLang = lang.value || getLanguage();
    lang.replaceChildren(...LANGS.map((x) => {
      const o = option(x, langName(x));
      o.lang = x;
      return o;
    }));
    lang.value = LANGS.includes(keepLang) ? keepLang : 'en';
  }

  // --- routes ------------------------------------------------------------------------------
  /** Show a view; `focus` moves the focus to its heading (a screen reader hears where it is). */
  open(route, { focus = true } = {}) {
    this.route = { ...route };
    for (const [name, section] of Object.entries(this.sections)) section.hidden = name !== route.view;
    this.tool = null;
    if (route.view === 'home') {
      if (route.q !== undefined && route.q !== this.$('q').value) this.$('q').value = route.q;
      this.search(true);
    } else if (route.view === 'post') {
      this.renderPostForm();
      if (this.titleDraft !== undefined) {
        this.$('p-title').value = this.titleDraft;
        this.titleDraft = undefined;
      }
      this.$('post-pending').hidden = true;
      this.renderSimilar();
    } else if (route.view === 'topic') {
      const id = Number(route.id);
      if (!this.topic || (this.topic.id !== id && this.redirectedFrom !== id)) {
        this.topic = null;
        this.replies = [];
        this.redirectedFrom = null;
      }
      this.replyTo = null;
      this.loadingTopic = id;
      this.setError('topic', null);
      if (!this.act('topic', { t: 'qa_get', topic: id })) this.loadingTopic = null;
    } else if (route.view === 'mine') {
      this.act('mine', { t: 'qa_mine' });
    } else if (route.view === 'queue') {
      if (this.isStaff) this.act('queue', { t: 'qa_queue' });
    }
    this.renderAll();
    if (focus) this.focusHeading();
  }

  focusHeading() {
    const ids = { home: 'home-heading', post: 'post-heading', topic: 'topic-title', mine: 'mine-heading', queue: 'queue-heading' };
    this.$(ids[this.route.view])?.focus();
  }

  /** The connection is back (or new): ask again for what is on screen. */
  refresh() {
    const r = this.route;
    if (r.view === 'home') this.search(true);
    else if (r.view === 'topic') this.send({ t: 'qa_get', topic: Number(r.id) });
    else if (r.view === 'mine') this.send({ t: 'qa_mine' });
    else if (r.view === 'queue' && this.isStaff) this.send({ t: 'qa_queue' });
    this.renderAll();
  }

  // --- search ---------------------------------------------------------------------------------
  typed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(false), DEBOUNCE_MS);
  }

  /** Search now. Below MIN_CHARS while typing: nothing (an empty box lists the newest). */
  search(explicit) {
    clearTimeout(this.timer);
    const q = this.$('q').value.trim();
    const n = [...q].length;
    if (n > 0 && n < MIN_CHARS && !explicit) {
      this.q = q;
      this.results = null;
      this.searchRef = null;
      this.renderResults();
      return;
    }
    const msg = { t: 'qa_search', q: [...q].slice(0, 200).join(''), ref: this.nextRef(), limit: 10 };
    for (const [k, v] of Object.entries(this.filters)) if (v) msg[k === 'lang' ? 'only_lang' : k] = v;
    // The query's language (for stemming): the filter's, else the page's.
    msg.lang = this.filters.lang || getLanguage();
    if (!q) msg.sort = 'newest';
    this.q = q;
    if (this.act('search', msg)) this.searchRef = msg.ref;
  }

  onResults(msg) {
    if (msg.ref === undefined || msg.ref !== this.searchRef) {
      // The post form's "similar" list asks too; anything else is stale.
      if (msg.ref !== undefined && msg.ref === this.similarRef) {
        this.similar = msg.hits || [];
        this.renderSimilar();
      }
      return;
    }
    this.results = { q: msg.q, hits: msg.hits || [], total: Number(msg.total) || 0 };
    this.renderResults();
  }

  renderResults() {
    const list = this.$('results');
    const count = this.$('count');
    const cont = this.$('continue');
    const r = this.results;
    if (!r) {
      list.replaceChildren();
      const n = [...this.q].length;
      count.textContent = n > 0 && n < MIN_CHARS ? t('qa.search.more', { n: MIN_CHARS - n }) : '';
      cont.hidden = true;
      return;
    }
    list.replaceChildren(...r.hits.map((hit) => this.hitItem(hit)));
    if (!r.q) count.textContent = r.hits.length ? t('qa.search.newest') : t('qa.search.empty_wall');
    else count.textContent = t('qa.search.count', { n: r.total, q: r.q });
    cont.hidden = !r.q;
    if (r.q) {
      this.$('continue-text').textContent = r.hits.length ? t('qa.continue.found') : t('qa.continue.none');
    }
  }

  hitItem(hit) {
    const topicId = hit.kind === 'reply' ? hit.topic : hit.id;
    const li = h('li', { class: 'qa-hit', dataset: { topic: topicId, status: hit.status || '' } },
      this.heading('', { class: 'qa-hit-title' }, 1),
      h('p', { class: 'qa-meta' }, this.metaText(hit)),
      hit.body ? h('p', { class: 'qa-excerpt' }, hit.body) : null,
      hit.answer ? this.answerExcerpt(hit.answer) : null);
    li.firstChild.append(this.link({ view: 'topic', id: topicId }, hit.title || t('qa.untitled'), { dataset: { key: `hit-${topicId}` } }));
    return li;
  }

  metaText(post) {
    const parts = [this.typeName(post.type), this.statusName(post.status)];
    if (post.service) parts.push(this.serviceName(post.service));
    parts.push(t('qa.meta.replies', { n: Number(post.replies) || 0 }));
    parts.push(t('qa.meta.votes', { n: Number(post.votes) || 0 }));
    if (post.overdue) parts.push(t('qa.meta.overdue'));
    return parts.join(' · ');
  }

  /** The best answer under a search hit: the official badge, or "accepted", then the excerpt. */
  answerExcerpt(answer) {
    const box = h('div', { class: `qa-answer-excerpt${answer.official ? ' qa-is-official' : ''}`, dataset: { official: answer.official ? 'true' : 'false' } });
    if (answer.official) {
      box.append(this.officialBadge({ staff_name: answer.staff_name || '', service: answer.service }));
    } else if (answer.accepted) {
      box.append(h('p', { class: 'qa-accepted-badge' }, acceptedIcon(), h('span', {}, t('qa.accepted')),
        h('span', { class: 'qa-by' }, t('qa.by', { name: answer.author_name || t('qa.former') }))));
    } else {
      box.append(h('p', { class: 'qa-answer-label' }, t('qa.answer_by', { name: answer.author_name || t('qa.former') })));
    }
    box.append(h('p', { class: 'qa-answer-body' }, answer.body || ''));
    return box;
  }

  /** The official answer's badge: only ever from the server's `official` object. */
  officialBadge(official) {
    const who = official.service
      ? t('qa.official.who_service', { name: official.staff_name || '', service: this.serviceName(official.service) })
      : t('qa.official.who', { name: official.staff_name || '' });
    return h('p', { class: 'qa-official-badge', dataset: { official: 'true' } },
      officialIcon(),
      h('span', { class: 'qa-official-label' }, t('qa.official')),
      h('span', { class: 'qa-official-who' }, who));
  }

  // --- posting -----------------------------------------------------------------------------------
  /** Topics like the title being written, while writing it (the post form's own search). */
  renderSimilar() {
    const box = this.$('post-similar');
    const hits = (this.similar || []).filter((x) => x.answer);
    box.hidden = this.route.view !== 'post' || hits.length === 0;
    if (box.hidden) return;
    box.replaceChildren(
      this.heading(t('qa.post.similar'), {}, 1),
      h('ul', { class: 'qa-results' }, ...hits.slice(0, 3).map((hit) => this.hitItem(hit))));
  }

  submitPost() {
    const title = this.$('p-title').value.trim();
    const body = this.$('p-body').value.trim();
    if (!title || !body) {
      this.setError('post', null);
      this.$('post-error').textContent = t(!title ? 'qa.post.need_title' : 'qa.post.need_body');
      this.$(!title ? 'p-title' : 'p-body').focus();
      return;
    }
    const msg = {
      t: 'qa_post',
      type: this.$('p-type').value || 'question',
      title: [...title].slice(0, MAX_TITLE).join(''),
      body: [...body].slice(0, MAX_BODY).join(''),
      lang: this.$('p-lang').value || getLanguage(),
      ref: this.nextRef(),
    };
    const service = this.$('p-service').value;
    if (service) msg.service = service;
    const name = this.mode === 'page' ? this.$('p-name').value.trim() : '';
    if (name) msg.name = [...name].slice(0, 32).join('');
    this.clearHeld('post');
    // What was sent is what a finding's indices refer to.
    this.$('p-title').value = msg.title;
    this.$('p-body').value = msg.body;
    if (this.act('post', msg)) {
      this.pending.set(msg.ref, 'post');
      this.$('p-submit').disabled = true;
    }
  }

  /** The held-back message: which part looks like personal data and why, marked in the field. */
  showHeld(form, findings, fields, box) {
    this.held = { form, findings };
    const items = findings.map((f) => {
      const el = fields[f.field];
      const part = el ? splitAt(el.value, f.start, f.end)[1] : '';
      const why = KNOWN_FINDINGS.has(f.kind) ? t(`qa.held.kind.${f.kind}`) : (f.reason || t('qa.held.kind.other'));
      return h('li', { dataset: { kind: f.kind, field: f.field } },
        t(f.field === 'title' ? 'qa.held.in_title' : 'qa.held.in_body', { part, why }));
    });
    box.replaceChildren(
      h('p', { class: 'qa-held-title' }, t('qa.held.heading')),
      h('ul', { class: 'qa-held-list' }, ...items),
      h('p', {}, t('qa.held.fix')));
    box.hidden = false;
    let first = null;
    for (const [name, el] of Object.entries(fields)) {
      const mine = findings.filter((f) => f.field === name);
      const mirror = this.root.querySelector(`#${el.id}-mirror`);
      if (!mine.length) continue;
      el.setAttribute('aria-invalid', 'true');
      if (mirror) this.renderMirror(mirror, el.value, mine);
      if (!first) first = [el, mine[0]];
    }
    if (first) {
      const [el, f] = first;
      el.focus();
      try { el.setSelectionRange(utf16Index(el.value, f.start), utf16Index(el.value, f.end)); } catch { /* not selectable */ }
    } else {
      box.focus();
    }
    this.announce(t('qa.held.heading'));
  }

  /** The field's text with the held parts marked (text nodes and <mark>, never HTML). */
  renderMirror(mirror, text, findings) {
    const parts = [];
    let pos = 0;
    const chars = [...text];
    for (const f of [...findings].sort((a, b) => a.start - b.start)) {
      if (f.start < pos) continue;
      parts.push(chars.slice(pos, f.start).join(''));
      parts.push(h('mark', { class: 'qa-mark', dataset: { kind: f.kind } }, chars.slice(f.start, f.end).join('')));
      pos = f.end;
    }
    parts.push(chars.slice(pos).join(''));
    mirror.replaceChildren(h('span', { class: 'visually-hidden' }, t('qa.held.marked')), ...parts);
    mirror.hidden = false;
  }

  clearHeld(form, field = null) {
    const fieldsOf = {
      post: { title: this.$('p-title'), body: this.$('p-body') },
      reply: { body: this.$('r-body') },
      edit: { title: this.$('e-title'), body: this.$('e-body') },
    }[form] || {};
    for (const [name, el] of Object.entries(fieldsOf)) {
      if (!el || (field && name !== field)) continue;
      el.removeAttribute('aria-invalid');
      const mirror = this.root.querySelector(`#${el.id}-mirror`);
      if (mirror) { mirror.hidden = true; mirror.replaceChildren(); }
    }
    if (!field && this.held?.form === form) this.held = null;
    if (!field) {
      const box = this.$(`${form}-held`);
      if (box) { box.hidden = true; box.replaceChildren(); }
    }
  }

  onHeld(msg) {
    const form = this.pending.get(msg.ref);
    this.pending.delete(msg.ref);
    if (!form) return;
    if (form === 'post') {
      this.$('p-submit').disabled = false;
      this.showHeld('post', msg.findings || [], { title: this.$('p-title'), body: this.$('p-body') }, this.$('post-held'));
    } else if (form === 'reply' && this.$('r-body')) {
      this.$('r-submit').disabled = false;
      this.showHeld('reply', msg.findings || [], { body: this.$('r-body') }, this.$('reply-held'));
    } else if (form === 'edit' && this.$('e-body')) {
      this.showHeld('edit', msg.findings || [], { title: this.$('e-title'), body: this.$('e-body') }, this.$('edit-held'));
    }
  }

  onPosted(msg) {
    const form = this.pending.get(msg.ref);
    this.pending.delete(msg.ref);
    const post = msg.post;
    if (!post) return;
    if (form === 'post') {
      this.$('p-submit').disabled = false;
      this.clearHeld('post');
      this.$('post-form').reset();
      this.renderPostForm();
      this.posted = post;
      if (post.pending) {
        const note = this.$('post-pending');
        note.textContent = t('qa.post.pending');
        note.hidden = false;
        this.announce(t('qa.post.pending'));
        return;
      }
      this.announce(t('qa.post.published'));
      this.topic = post;
      this.replies = [];
      this.go({ view: 'topic', id: post.id });
    } else if (form === 'reply') {
      this.replyTo = null;
      this.clearHeld('reply');
      const body = this.$('r-body');
      if (body) body.value = '';
      const official = this.$('r-official');
      if (official) official.checked = false;
      this.upsertReply(post);
      this.renderTopic();
      this.announce(post.pending ? t('qa.reply.pending') : t('qa.reply.published'));
      this.root.querySelector(`[data-post="${post.id}"]`)?.focus();
    } else if (form === 'edit') {
      this.tool = null;
      if (post.kind === 'topic') this.topic = { ...this.topic, ...post };
      else this.upsertReply(post);
      this.renderTopic();
      this.announce(t('qa.edit.saved'));
      this.root.querySelector(`[data-post="${post.id}"]`)?.focus();
    }
  }

  // --- topic ------------------------------------------------------------------------------------
  onTopic(msg) {
    const id = msg.topic?.id;
    const asked = this.loadingTopic;
    const showing = this.route.view === 'topic' && (Number(this.route.id) === id || asked === msg.redirected_from || this.topic?.id === id);
    if (!showing) return;
    const first = this.topic?.id !== id;
    this.topic = msg.topic;
    this.replies = msg.replies || [];
    this.redirectedFrom = msg.redirected_from ?? null;
    this.loadingTopic = null;
    if (first) this.tool = null;
    this.keepFocus(() => this.renderTopic());
    if (first) {
      // A topic that just opened: its heading gets the focus, unless the person is elsewhere.
      const active = document.activeElement;
      if (!active || active === document.body || this.root.contains(active)) this.$('topic-title')?.focus();
    }
    this.onTopicShown?.(this.topic, this.redirectedFrom);
  }

  upsertReply(post) {
    const i = this.replies.findIndex((r) => r.id === post.id);
    if (i >= 0) this.replies[i] = post;
    else this.replies.push(post);
  }

  onUpdate(msg) {
    if (this.topic && msg.topic && msg.topic.id === this.topic.id) {
      this.topic = msg.topic;
      const isNew = msg.post && msg.post.kind === 'reply' && !this.replies.some((r) => r.id === msg.post.id);
      if (msg.post && msg.post.kind === 'reply') this.upsertReply(msg.post);
      this.keepFocus(() => this.renderTopic());
      if (isNew && !msg.post.mine) {
        this.announce(msg.post.official
          ? t('qa.live.official', { name: msg.post.official.staff_name || '' })
          : t('qa.live.reply', { name: this.authorName(msg.post) }));
      }
    }
    // A search list showing this topic gets its new counts.
    if (this.results && msg.topic) {
      const i = this.results.hits.findIndex((x) => x.id === msg.topic.id);
      if (i >= 0) {
        this.results.hits[i] = { ...this.results.hits[i], ...msg.topic };
        this.keepFocus(() => this.renderResults());
      }
    }
  }

  renderTopic() {
    const s = this.sections.topic;
    const topic = this.topic;
    const top = h('p', { class: 'qa-back' }, this.link({ view: 'home' }, t('qa.back'), { dataset: { key: 'back' } }));
    if (!topic) {
      s.replaceChildren(top,
        this.heading(this.loadingTopic ? t('qa.topic.loading') : t('qa.topic.none'), { id: this.id('topic-title'), tabindex: '-1' }),
        h('p', { id: this.id('topic-error'), class: 'error', role: 'alert' }, this.errors.topic ? this.errorText(this.errors.topic.code) : ''));
      return;
    }
    const notes = [];
    if (this.redirectedFrom) {
      notes.push(h('p', { class: 'qa-note qa-merged-note', id: this.id('merged-note') },
        t('qa.topic.merged_here', { from: this.redirectedFrom, id: topic.id })));
    }
    if (topic.status === 'archived') notes.push(h('p', { class: 'qa-note' }, t('qa.topic.archived')));
    else if (topic.status === 'closed') notes.push(h('p', { class: 'qa-note' }, t('qa.topic.closed')));
    if (topic.needs_case) notes.push(h('p', { class: 'qa-note' }, t('qa.topic.needs_case')));

    const article = h('article', { class: 'qa-topic', 'aria-labelledby': this.id('topic-title'), dataset: { topic: topic.id } },
      this.heading(topic.title || t('qa.untitled'), { id: this.id('topic-title'), tabindex: '-1', class: 'qa-topic-title' }),
      h('p', { class: 'qa-meta' }, this.metaText(topic)),
      this.byline(topic),
      ...this.postNotes(topic),
      h('div', { class: 'qa-body', lang: topic.lang || null }, topic.body || ''),
      this.postActions(topic),
      this.toolFor(topic),
      h('p', { class: 'qa-permalink' },
        h('span', {}, t('qa.topic.link')), ' ',
        h('a', { href: this.hrefOf({ view: 'topic', id: topic.id }), class: 'qa-link-url', dataset: { key: 'permalink' } },
          new URL(this.hrefOf({ view: 'topic', id: topic.id }), location.href).href)),
      this.isStaff ? this.staffTools(topic) : null);

    const top_level = this.replies.filter((r) => !r.parent);
    const children = (id) => this.replies.filter((r) => r.parent === id);
    const replies = h('section', { class: 'qa-replies-section', 'aria-labelledby': this.id('replies-heading') },
      this.heading(t('qa.replies.heading', { n: this.replies.length }), { id: this.id('replies-heading') }, 1),
      this.replies.length ? null : h('p', { class: 'hint' }, t('qa.replies.none')),
      h('ol', { class: 'qa-replies', id: this.id('replies') }, ...top_level.map((r) => {
        const li = this.replyItem(r, topic);
        const kids = children(r.id);
        if (kids.length) {
          li.append(h('ol', { class: 'qa-replies qa-thread', 'aria-label': t('qa.replies.thread', { name: this.authorName(r) }) },
            ...kids.map((k) => this.replyItem(k, topic))));
        }
        if (this.replyTo === r.id) li.append(this.replyForm(topic));
        return li;
      })));
    s.replaceChildren(top, ...notes, h('p', { id: this.id('topic-error'), class: 'error', role: 'alert' }, this.errors.topic ? this.errorText(this.errors.topic.code) : ''),
      article, replies, this.replyTo ? null : this.replyForm(topic));
  }

  byline(post) {
    const role = post.author_role && post.author_role !== 'citizen' ? t(`role.${post.author_role}`) : null;
    return h('p', { class: 'qa-byline' },
      t(post.kind === 'topic' ? 'qa.asked_by' : 'qa.answered_by', { name: this.authorName(post) }),
      role ? h('span', { class: `qa-role qa-role-${post.author_role}` }, role) : null,
      ' · ', h('time', { datetime: new Date(post.created * 1000).toISOString() }, fmtDate(post.created)),
      post.edited ? h('span', { class: 'qa-edited' }, ` · ${t('qa.edited', { when: fmtDate(post.edited) })}`) : null);
  }

  postNotes(post) {
    const out = [];
    if (post.hidden) out.push(h('p', { class: 'qa-note qa-hidden-note' }, t('qa.hidden_note', { reason: post.hidden.reason || '' })));
    if (post.pending) out.push(h('p', { class: 'qa-note' }, t('qa.pending_note')));
    if (this.isStaff && post.flags) out.push(h('p', { class: 'qa-note' }, t('qa.flags_note', { n: post.flags })));
    return out;
  }

  replyItem(reply, topic) {
    const cls = ['qa-reply'];
    if (reply.official) cls.push('qa-is-official');
    if (reply.accepted) cls.push('qa-is-accepted');
    const article = h('article', { class: cls.join(' '), tabindex: '-1', dataset: { post: reply.id, official: reply.official ? 'true' : 'false' }, 'aria-label': t('qa.reply.label', { name: this.authorName(reply) }) },
      reply.official ? this.officialBadge(reply.official) : null,
      reply.accepted ? h('p', { class: 'qa-accepted-badge' }, acceptedIcon(), h('span', {}, t('qa.accepted'))) : null,
      this.byline(reply),
      ...this.postNotes(reply),
      h('div', { class: 'qa-body', lang: reply.lang || null }, reply.body || ''),
      this.postActions(reply, topic),
      this.toolFor(reply));
    return h('li', {}, article);
  }

  writable(topic) {
    return topic && topic.status !== 'archived' && topic.status !== 'closed' && !topic.merged_into;
  }

  postActions(post, topic = null) {
    const isTopic = post.kind === 'topic';
    const bar = h('div', { class: 'qa-actions' });
    const key = (name) => `${name}-${post.id}`;
    const button = (name, text, onclick, attrs = {}) => h('button', { type: 'button', class: 'secondary', dataset: { key: key(name), action: name }, onclick, ...attrs }, text);
    if (!post.mine) {
      const label = isTopic ? t(post.type === 'idea' ? 'qa.vote.support' : 'qa.vote.same', { n: post.votes || 0 }) : t('qa.vote.helpful', { n: post.votes || 0 });
      bar.append(button('vote', label, () => this.vote(post), { 'aria-pressed': post.voted ? 'true' : 'false' }));
    } else {
      bar.append(h('span', { class: 'qa-votes' }, t('qa.meta.votes', { n: post.votes || 0 })));
    }
    if (!isTopic && topic) {
      if (topic.mine && ['question', 'problem'].includes(topic.type) && this.writable(topic)) {
        bar.append(post.accepted
          ? button('unaccept', t('qa.accept.undo'), () => this.act('topic', { t: 'qa_accept', topic: topic.id }))
          : button('accept', t('qa.accept'), () => this.act('topic', { t: 'qa_accept', topic: topic.id, reply: post.id })));
      }
      if (!post.parent && this.writable(topic)) {
        bar.append(button('reply', t('qa.reply.to'), () => {
          this.replyTo = post.id;
          this.renderTopic();
          this.$('r-body')?.focus();
        }));
      }
    }
    if (post.mine && (!topic || this.writable(topic)) && (isTopic ? this.writable(post) : true)) {
      bar.append(button('edit', t('qa.edit'), () => this.openTool('edit', post)));
    }
    if (!post.mine) bar.append(button('flag', t('qa.flag'), () => this.openTool('flag', post)));
    if (this.isStaff) {
      if (post.pending) bar.append(button('approve', t('qa.mod.approve'), () => this.openTool('moderate', post, 'approve')));
      bar.append(post.hidden
        ? button('restore', t('qa.mod.restore'), () => this.openTool('moderate', post, 'restore'))
        : button('hide', t('qa.mod.hide'), () => this.openTool('moderate', post, 'hide')));
      bar.append(button('revisions', t('qa.revisions'), () => {
        this.openTool('revisions', post);
        this.act('tool', { t: 'qa_revisions', post: post.id });
      }));
    }
    return bar;
  }

  vote(post) {
    const up = !post.voted;
    if (!this.act('topic', { t: 'qa_vote', post: post.id, up })) return;
    // Shown at once; the server's qa_update confirms (or an error undoes it).
    const apply = (p) => (p.id === post.id ? { ...p, voted: up, votes: Math.max(0, (p.votes || 0) + (up ? 1 : -1)) } : p);
    if (this.topic?.id === post.id) this.topic = apply(this.topic);
    this.replies = this.replies.map(apply);
    this.keepFocus(() => this.renderTopic());
  }

  openTool(kind, post, action = null) {
    this.tool = { kind, post: post.id, action, values: {} };
    this.setError('tool', null);
    this.renderTopic();
    const first = this.root.querySelector('.qa-tool select, .qa-tool input:not([type=hidden]), .qa-tool textarea, .qa-tool button');
    first?.focus();
  }

  closeTool() {
    const post = this.tool?.post;
    this.tool = null;
    this.renderTopic();
    this.root.querySelector(`[data-post="${post}"]`)?.focus() || this.$('topic-title')?.focus();
  }

  /** The open tool (flag, moderate, edit, revisions) under the post it is for. */
  toolFor(post) {
    const tool = this.tool;
    if (!tool || tool.post !== post.id) return null;
    const values = tool.values;
    const keep = (name) => (e) => { values[name] = e.target.type === 'checkbox' ? e.target.checked : e.target.value; };
    const cancel = h('button', { type: 'button', class: 'secondary', dataset: { key: 'tool-cancel' }, onclick: () => this.closeTool() }, t('qa.cancel'));
    const error = h('p', { id: this.id('tool-error'), class: 'error', role: 'alert' }, this.errors.tool ? this.errorText(this.errors.tool.code) : '');
    if (tool.kind === 'flag') {
      const form = h('form', { class: 'qa-tool', novalidate: true, 'aria-label': t('qa.flag.heading') },
        h('div', { class: 'field' },
          h('label', { for: this.id('flag-reason') }, t('qa.flag.reason')),
          h('select', { id: this.id('flag-reason'), dataset: { key: 'flag-reason' }, onchange: keep('reason') },
            ...FLAG_REASONS.map((r) => option(r, t(`qa.flag.${r}`), values.reason === r)))),
        error,
        h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'primary', dataset: { key: 'flag-send' } }, t('qa.flag.send')), cancel));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const reason = this.$('flag-reason').value;
        if (this.act('tool', { t: 'qa_flag', post: post.id, reason })) {
          this.flagged = post.id;
          this.tool = null;
          this.renderTopic();
          this.announce(t('qa.flag.sent'));
          this.root.querySelector(`[data-post="${post.id}"]`)?.focus();
        }
      });
      return form;
    }
    if (tool.kind === 'moderate') {
      const form = h('form', { class: 'qa-tool', novalidate: true, 'aria-label': t(`qa.mod.${tool.action}`) },
        h('div', { class: 'field' },
          h('label', { for: this.id('mod-reason') }, t('qa.mod.reason')),
          h('input', { id: this.id('mod-reason'), type: 'text', maxlength: 200, required: true, value: values.reason || '', dataset: { key: 'mod-reason' }, oninput: keep('reason') })),
        error,
        h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'primary', dataset: { key: 'mod-send' } }, t(`qa.mod.${tool.action}`)), cancel));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const reason = this.$('mod-reason').value.trim() || t(`qa.mod.default.${tool.action}`);
        if (this.act('tool', { t: 'qa_moderate', post: post.id, action: tool.action, reason: [...reason].slice(0, 200).join('') })) {
          this.tool = null;
          this.renderTopic();
        }
      });
      return form;
    }
    if (tool.kind === 'edit') {
      const isTopic = post.kind === 'topic';
      const form = h('form', { class: 'qa-tool', novalidate: true, 'aria-label': t('qa.edit.heading') },
        isTopic ? h('div', { class: 'field' },
          h('label', { for: this.id('e-title') }, t('qa.post.title')),
          h('input', { id: this.id('e-title'), type: 'text', maxlength: MAX_TITLE, dataset: { key: 'e-title' }, value: values.title ?? post.title ?? '', oninput: (e) => { keep('title')(e); this.clearHeld('edit', 'title'); }, 'aria-describedby': this.id('e-title-mirror') }),
          h('p', { id: this.id('e-title-mirror'), class: 'qa-mirror', hidden: true })) : null,
        h('div', { class: 'field' },
          h('label', { for: this.id('e-body') }, t('qa.edit.body')),
          h('textarea', { id: this.id('e-body'), rows: 5, maxlength: MAX_BODY, dataset: { key: 'e-body' }, oninput: (e) => { keep('body')(e); this.clearHeld('edit', 'body'); }, 'aria-describedby': this.id('e-body-mirror') }),
          h('p', { id: this.id('e-body-mirror'), class: 'qa-mirror', hidden: true })),
        h('div', { id: this.id('edit-held'), class: 'qa-held', role: 'alert', tabindex: '-1', hidden: true }),
        error,
        h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'primary', dataset: { key: 'edit-send' } }, t('qa.edit.save')), cancel));
      form.querySelector('textarea').value = values.body ?? post.body ?? '';
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const msg = { t: 'qa_edit', post: post.id, ref: this.nextRef() };
        const body = this.$('e-body').value.trim();
        const title = isTopic ? this.$('e-title').value.trim() : '';
        if (body && body !== post.body) msg.body = [...body].slice(0, MAX_BODY).join('');
        if (isTopic && title && title !== post.title) msg.title = [...title].slice(0, MAX_TITLE).join('');
        if (!msg.body && !msg.title) { this.setError('tool', 'empty_edit'); return; }
        this.clearHeld('edit');
        if (this.act('tool', msg)) this.pending.set(msg.ref, 'edit');
      });
      return form;
    }
    if (tool.kind === 'revisions') {
      const revs = this.revisions.get(post.id);
      return h('section', { class: 'qa-tool qa-revisions', 'aria-labelledby': this.id('rev-heading') },
        this.heading(t('qa.revisions.heading'), { id: this.id('rev-heading') }, 2),
        !revs ? h('p', { class: 'hint' }, t('qa.loading'))
          : revs.length === 0 ? h('p', { class: 'hint' }, t('qa.revisions.none'))
            : h('ol', { class: 'qa-revision-list' }, ...revs.map((r) => h('li', {},
              h('p', { class: 'qa-meta' }, h('time', {}, fmtDate(r.ts))),
              r.title ? h('p', { class: 'qa-revision-title' }, r.title) : null,
              h('div', { class: 'qa-body' }, r.body || '')))),
        error,
        h('div', { class: 'actions' }, cancel));
    }
    return null;
  }

  /** Staff: status, needs a case, service, merge. */
  staffTools(topic) {
    const box = h('details', { class: 'qa-staff-tools', open: this.staffOpen || null },
      h('summary', { dataset: { key: 'staff-summary' } }, t('qa.staff.tools')));
    box.addEventListener('toggle', () => { this.staffOpen = box.open; });
    const set = h('form', { class: 'qa-staff-form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: this.id('s-status') }, t('qa.staff.status')),
        h('select', { id: this.id('s-status'), dataset: { key: 's-status' } },
          ...['open', 'closed', 'archived'].map((x) => option(x, t(`qa.staff.status.${x}`), topic.status === x || (x === 'open' && !['closed', 'archived'].includes(topic.status)))))),
      h('div', { class: 'field-check' },
        h('input', { type: 'checkbox', id: this.id('s-case'), dataset: { key: 's-case' }, checked: topic.needs_case || null }),
        h('label', { for: this.id('s-case') }, t('qa.staff.needs_case'))),
      h('div', { class: 'field' },
        h('label', { for: this.id('s-service') }, t('qa.post.service')),
        h('select', { id: this.id('s-service'), dataset: { key: 's-service' } },
          option('', t('qa.post.no_service'), !topic.service),
          ...this.services().map((x) => option(x.id, localName(x.name), x.id === topic.service)))),
      h('button', { type: 'submit', class: 'secondary', dataset: { key: 's-save' } }, t('qa.staff.save')));
    set.addEventListener('submit', (e) => {
      e.preventDefault();
      const msg = { t: 'qa_set', topic: topic.id };
      const status = this.$('s-status').value;
      const open = !['closed', 'archived'].includes(topic.status);
      if ((status === 'open') !== open || (status !== 'open' && status !== topic.status)) msg.status = status;
      if (this.$('s-case').checked !== Boolean(topic.needs_case)) msg.needs_case = this.$('s-case').checked;
      const service = this.$('s-service').value;
      if (service && service !== topic.service) msg.service = service;
      if (Object.keys(msg).length > 2 && this.act('topic', msg)) this.announce(t('qa.staff.saved'));
    });
    const merge = h('form', { class: 'qa-staff-form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: this.id('s-merge') }, t('qa.staff.merge')),
        h('input', { id: this.id('s-merge'), type: 'text', inputmode: 'numeric', pattern: '[0-9]*', autocomplete: 'off', dataset: { key: 's-merge' }, 'aria-describedby': this.id('s-merge-hint') }),
        h('p', { class: 'hint', id: this.id('s-merge-hint') }, t('qa.staff.merge_hint'))),
      h('button', { type: 'submit', class: 'secondary', dataset: { key: 's-merge-send' } }, t('qa.staff.merge_button')));
    merge.addEventListener('submit', (e) => {
      e.preventDefault();
      const into = Number(String(this.$('s-merge').value).replace(/\D/g, ''));
      if (into > 0) this.act('topic', { t: 'qa_merge', topic: topic.id, into });
    });
    box.append(set, merge);
    return box;
  }

  replyForm(topic) {
    if (!this.writable(topic)) {
      return h('p', { class: 'hint qa-reply-closed' }, t('qa.reply.closed'));
    }
    const parent = this.replyTo ? this.replies.find((r) => r.id === this.replyTo) : null;
    const form = h('form', { id: this.id('reply-form'), class: 'qa-reply-form', novalidate: true, 'aria-labelledby': this.id('reply-heading') },
      this.heading(parent ? t('qa.reply.heading_to', { name: this.authorName(parent) }) : t('qa.reply.heading'), { id: this.id('reply-heading') }, 1),
      h('div', { class: 'field' },
        h('label', { for: this.id('r-body') }, t('qa.reply.body')),
        h('textarea', { id: this.id('r-body'), rows: 4, maxlength: MAX_BODY, dataset: { key: 'r-body' }, 'aria-describedby': `${this.id('r-hint')} ${this.id('r-body-mirror')}` }),
        h('p', { id: this.id('r-hint'), class: 'hint' }, t('qa.post.privacy')),
        h('p', { id: this.id('r-body-mirror'), class: 'qa-mirror', hidden: true })),
      this.isStaff ? h('div', { class: 'field-check qa-official-check' },
        h('input', { type: 'checkbox', id: this.id('r-official'), dataset: { key: 'r-official' } }),
        h('label', { for: this.id('r-official') }, t('qa.reply.official'))) : null,
      this.mode === 'page' ? h('div', { class: 'field' },
        h('label', { for: this.id('r-name') }, t('qa.post.name')),
        h('input', { id: this.id('r-name'), type: 'text', maxlength: 32, autocomplete: 'nickname', dataset: { key: 'r-name' }, value: this.nameDraft || '' })) : null,
      h('div', { id: this.id('reply-held'), class: 'qa-held', role: 'alert', tabindex: '-1', hidden: true }),
      h('p', { id: this.id('reply-error'), class: 'error', role: 'alert' }, this.errors.reply ? this.errorText(this.errors.reply.code) : ''),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: this.id('r-submit'), dataset: { key: 'r-submit' } }, t('qa.reply.submit')),
        parent ? h('button', { type: 'button', class: 'secondary', dataset: { key: 'r-cancel' }, onclick: () => { this.replyTo = null; this.renderTopic(); this.$('r-body')?.focus(); } }, t('qa.cancel')) : null));
    const body = form.querySelector('textarea');
    body.value = this.replyDraft || '';
    body.addEventListener('input', () => { this.replyDraft = body.value; this.clearHeld('reply', 'body'); });
    form.querySelector(`#${this.id('r-name')}`)?.addEventListener('input', (e) => { this.nameDraft = e.target.value; });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = this.$('r-body').value.trim();
      if (!text) { this.$('reply-error').textContent = t('qa.post.need_body'); this.$('r-body').focus(); return; }
      const msg = { t: 'qa_reply', topic: topic.id, body: [...text].slice(0, MAX_BODY).join(''), ref: this.nextRef() };
      if (this.replyTo) msg.parent = this.replyTo;
      if (this.isStaff && this.$('r-official')?.checked) msg.official = true;
      const name = this.mode === 'page' ? (this.$('r-name')?.value.trim() || '') : '';
      if (name) msg.name = [...name].slice(0, 32).join('');
      this.$('r-body').value = msg.body;
      this.clearHeld('reply');
      if (this.act('reply', msg)) {
        this.pending.set(msg.ref, 'reply');
        this.replyDraft = '';
        this.$('r-submit').disabled = true;
      }
    });
    return form;
  }

  onRevisions(msg) {
    this.revisions.set(msg.post, msg.revisions || []);
    if (this.tool?.kind === 'revisions' && this.tool.post === msg.post) this.keepFocus(() => this.renderTopic());
  }

  // --- staff queue ---------------------------------------------------------------------------------
  onQueue(msg) {
    this.queue = { waiting: msg.waiting || [], flagged: msg.flagged || [] };
    this.keepFocus(() => this.renderQueue());
  }

  renderQueue() {
    const s = this.sections.queue;
    const q = this.queue;
    const refresh = h('button', { type: 'button', class: 'secondary', dataset: { key: 'queue-refresh' }, onclick: () => this.act('queue', { t: 'qa_queue' }) }, t('qa.queue.refresh'));
    const item = (p) => {
      const topicId = p.kind === 'reply' ? p.topic : p.id;
      return h('li', { class: `qa-hit${p.overdue ? ' qa-overdue' : ''}`, dataset: { topic: topicId, overdue: p.overdue ? 'true' : 'false' } },
        this.heading('', { class: 'qa-hit-title' }, 2),
        h('p', { class: 'qa-meta' },
          p.overdue ? h('strong', { class: 'qa-overdue-badge' }, t('qa.meta.overdue')) : null,
          p.overdue ? ' · ' : null,
          p.kind === 'topic' ? this.metaText(p) : t('qa.queue.reply_in', { id: topicId }),
          p.answer_due ? ` · ${t('qa.queue.due', { when: fmtDate(p.answer_due) })}` : '',
          p.flags ? ` · ${t('qa.flags_note', { n: p.flags })}` : ''),
        p.kind === 'reply' ? h('p', { class: 'qa-excerpt' }, p.body || '') : null);
    };
    const fill = (li, p) => {
      const topicId = p.kind === 'reply' ? p.topic : p.id;
      li.firstChild.append(this.link({ view: 'topic', id: topicId }, p.title || t('qa.queue.reply_in', { id: topicId }), { dataset: { key: `queue-${p.id}` } }));
      return li;
    };
    s.replaceChildren(
      this.heading(t('qa.queue.heading'), { id: this.id('queue-heading'), tabindex: '-1' }),
      !this.isStaff ? h('p', { class: 'hint' }, t('qa.queue.staff_only')) : null,
      this.isStaff ? refresh : null,
      h('p', { id: this.id('queue-error'), class: 'error', role: 'alert' }, this.errors.queue ? this.errorText(this.errors.queue.code) : ''),
      this.isStaff ? h('section', { 'aria-labelledby': this.id('queue-waiting') },
        this.heading(t('qa.queue.waiting'), { id: this.id('queue-waiting') }, 1),
        !q ? h('p', { class: 'hint' }, t('qa.loading'))
          : q.waiting.length === 0 ? h('p', { class: 'hint' }, t('qa.queue.none'))
            : h('ol', { class: 'qa-results', id: this.id('queue-list') }, ...q.waiting.map((p) => fill(item(p), p)))) : null,
      this.isStaff ? h('section', { 'aria-labelledby': this.id('queue-flagged') },
        this.heading(t('qa.queue.flagged'), { id: this.id('queue-flagged') }, 1),
        !q ? null : q.flagged.length === 0 ? h('p', { class: 'hint' }, t('qa.queue.no_flags'))
          : h('ol', { class: 'qa-results' }, ...q.flagged.map((p) => fill(item(p), p)))) : null);
  }

  // --- my questions and data -------------------------------------------------------------------------
  onMine(msg) {
    this.mine = { topics: msg.topics || [], notices: msg.notices || [] };
    this.keepFocus(() => this.renderMine());
  }

  onExport(msg) {
    // A large export comes in parts (qa_export.part of .parts): join them in order.
    if (msg.part === 1 || !this.exportParts) this.exportParts = [];
    this.exportParts.push(msg.data);
    if ((msg.part || 1) < (msg.parts || 1)) return;
    this.exportData = this.exportParts.join('');
    this.exportParts = null;
    download('servicepoint-qa-my-data.json', this.exportData);
    this.announce(t('qa.mine.exported'));
    this.keepFocus(() => this.renderMine());
  }

  onErased(msg) {
    // The erased identity is not used again: the next connection gets a new pseudonym.
    storeCitizen(null);
    this.erased = { posts: Number(msg.posts) || 0, votes: Number(msg.votes) || 0 };
    this.confirmErase = false;
    this.mine = null;
    this.renderMine();
    this.$('mine-erased')?.focus();
    this.act('mine', { t: 'qa_mine' });
  }

  noticeText(n) {
    const kinds = ['hidden', 'restored', 'approved', 'answered', 'official', 'merged'];
    const kind = kinds.includes(n.kind) ? n.kind : 'other';
    return t(`qa.notice.${kind}`, { title: n.title || '', reason: n.reason || '' });
  }

  renderMine() {
    const s = this.sections.mine;
    const m = this.mine;
    const exportButton = h('button', { type: 'button', class: 'secondary', id: this.id('export'), dataset: { key: 'export' },
      onclick: () => this.act('mine', { t: 'qa_export_mine' }) }, t('qa.mine.export'));
    const erase = this.confirmErase
      ? h('div', { class: 'qa-confirm', role: 'group', 'aria-labelledby': this.id('erase-q') },
        h('p', { id: this.id('erase-q'), class: 'qa-confirm-text' }, t('qa.mine.erase_confirm')),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'danger', id: this.id('erase-yes'), dataset: { key: 'erase-yes' },
            onclick: () => this.act('mine', { t: 'qa_erase_me', confirm: true }) }, t('qa.mine.erase_yes')),
          h('button', { type: 'button', class: 'secondary', dataset: { key: 'erase-no' },
            onclick: () => { this.confirmErase = false; this.renderMine(); this.$('erase')?.focus(); } }, t('qa.cancel'))))
      : h('button', { type: 'button', class: 'secondary', id: this.id('erase'), dataset: { key: 'erase' },
        onclick: () => { this.confirmErase = true; this.renderMine(); this.$('erase-yes')?.focus(); } }, t('qa.mine.erase'));
    s.replaceChildren(
      this.heading(t('qa.mine.heading'), { id: this.id('mine-heading'), tabindex: '-1' }),
      h('p', { id: this.id('mine-error'), class: 'error', role: 'alert' }, this.errors.mine ? this.errorText(this.errors.mine.code) : ''),
      h('section', { 'aria-labelledby': this.id('mine-topics') },
        this.heading(t('qa.mine.topics'), { id: this.id('mine-topics') }, 1),
        !m ? h('p', { class: 'hint' }, t('qa.loading'))
          : m.topics.length === 0 ? h('p', { class: 'hint' }, t('qa.mine.none'))
            : h('ol', { class: 'qa-results' }, ...m.topics.map((p) => this.hitItem(p)))),
      m && m.notices.length ? h('section', { 'aria-labelledby': this.id('mine-notices') },
        this.heading(t('qa.mine.notices'), { id: this.id('mine-notices') }, 1),
        h('ul', { class: 'plain-list qa-notices' }, ...m.notices.map((n) => h('li', {}, this.noticeText(n), ' ',
          n.topic ? this.link({ view: 'topic', id: n.topic }, t('qa.notice.show')) : null)))) : null,
      h('section', { class: 'qa-data', 'aria-labelledby': this.id('mine-data') },
        this.heading(t('qa.mine.data'), { id: this.id('mine-data') }, 1),
        h('p', {}, t('qa.mine.data_intro')),
        h('div', { class: 'actions' }, exportButton),
        this.exportData !== null ? h('p', { class: 'hint', id: this.id('export-done') }, t('qa.mine.exported')) : null,
        h('p', {}, t('qa.mine.erase_intro')),
        erase,
        this.erased ? h('p', { class: 'qa-note', id: this.id('mine-erased'), tabindex: '-1' }, t('qa.mine.erased', this.erased)) : null));
  }

  // --- messages ---------------------------------------------------------------------------------------
  handle(msg) {
    switch (msg.t) {
      case 'qa_results': this.onResults(msg); break;
      case 'qa_topic': this.onTopic(msg); break;
      case 'qa_posted': this.onPosted(msg); break;
      case 'qa_held': this.onHeld(msg); break;
      case 'qa_update': this.onUpdate(msg); break;
      case 'qa_revisions': this.onRevisions(msg); break;
      case 'qa_queue': this.onQueue(msg); break;
      case 'qa_mine': this.onMine(msg); break;
      case 'qa_export': this.onExport(msg); break;
      case 'qa_erased': this.onErased(msg); break;
      default: break;
    }
  }

  /** An `error` for one of our messages: shown next to its control. */
  error(msg) {
    const area = {
      qa_search: 'search', qa_post: 'post', qa_reply: 'reply', qa_edit: 'tool', qa_flag: 'tool', qa_moderate: 'tool',
      qa_revisions: 'tool', qa_get: 'topic', qa_vote: 'topic', qa_accept: 'topic', qa_set: 'topic', qa_merge: 'topic',
      qa_queue: 'queue', qa_mine: 'mine', qa_export_mine: 'mine', qa_erase_me: 'mine',
    }[msg.ref];
    if (!area) return false;
    if (msg.ref === 'qa_post') this.$('p-submit').disabled = false;
    if (msg.ref === 'qa_reply' && this.$('r-submit')) this.$('r-submit').disabled = false;
    if (msg.ref === 'qa_post' || msg.ref === 'qa_reply' || msg.ref === 'qa_edit') {
      // One post in flight per form: the oldest waiting one was refused.
      const kind = { qa_post: 'post', qa_reply: 'reply', qa_edit: 'edit' }[msg.ref];
      for (const [ref, k] of this.pending) if (k === kind) { this.pending.delete(ref); break; }
    }
    if (msg.ref === 'qa_get') this.loadingTopic = null;
    if (msg.ref === 'qa_vote' && this.topic) this.send({ t: 'qa_get', topic: this.topic.id }); // undo the optimistic vote
    this.errors[area] = { code: msg.code, reason: msg.reason };
    if (msg.ref === 'qa_get') this.renderTopic();
    const el = this.$(`${area}-error`);
    if (el) el.textContent = this.errorText(msg.code);
    return true;
  }

  renderAll() {
    this.renderNav();
    this.renderFilters();
    if (this.route.view === 'post') this.renderPostForm();
    this.keepFocus(() => {
      if (!this.sections.home.hidden) this.renderResults();
      if (!this.sections.topic.hidden) this.renderTopic();
      if (!this.sections.queue.hidden) this.renderQueue();
      if (!this.sections.mine.hidden) this.renderMine();
    });
    this.renderSimilar();
    for (const [area, e] of Object.entries(this.errors)) {
      const el = this.$(`${area}-error`);
      if (el) el.textContent = this.errorText(e.code);
    }
  }

  /** What the test hook reports. */
  snapshot() {
    return {
      view: this.route.view,
      route: { ...this.route },
      q: this.q,
      results: this.results ? { q: this.results.q, total: this.results.total, hits: this.results.hits.map((x) => ({ ...x })) } : null,
      topic: this.topic ? { ...this.topic } : null,
      replies: this.replies.map((r) => ({ ...r })),
      redirectedFrom: this.redirectedFrom,
      held: this.held ? { form: this.held.form, findings: this.held.findings.map((f) => ({ ...f })) } : null,
      posted: this.posted ? { ...this.posted } : null,
      queue: this.queue ? { waiting: this.queue.waiting.map((x) => x.id), flagged: this.queue.flagged.map((x) => x.id) } : null,
      mine: this.mine ? { topics: this.mine.topics.map((x) => x.id), notices: this.mine.notices.length } : null,
      exported: this.exportData,
      erased: this.erased,
      errors: Object.fromEntries(Object.entries(this.errors).map(([k, v]) => [k, v.code])),
    };
  }
}

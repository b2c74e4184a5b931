// The sign-in session as a page sees it: who is signed in (GET /auth/me), kept fresh
// (GET /auth/refresh before it expires). Used by the hall (core/signin.js), the dashboard
// and the Q&A page.
//
//   const session = new Session((me) => render(me));   // called after every load and refresh
//   await session.load();        // -> me: {signed_in, role, name, refresh_in, sign_in, eid, ...}
//   session.signedIn             // signed in with a staff role (not as a citizen)
//   session.hasRole(['manager', 'admin'])
//   loginHref('/dashboard.html') // '/auth/login?next=/dashboard.html'
//
// The session lives in an HttpOnly cookie that no script sees: the page asks the server
// whether it is signed in, sends `credentials: 'same-origin'` requests (no Authorization
// header) and the WebSocket handshake carries the cookie by itself. A refresh rotates the
// cookie; a 401 from it means the session is over. Sign-in and sign-out are plain links
// (/auth/login, /auth/logout): nothing secret ever goes in a URL.

const MIN_REFRESH_MS = 5_000;
export const LOGOUT_HREF = '/auth/logout';

/** GET a JSON route with the page's cookies: {ok, status, body}; throws on a network error. */
export async function getJson(path) {
  const resp = await fetch(path, {
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json' },
  });
  if (!resp.ok) return { ok: false, status: resp.status, body: null };
  return { ok: true, status: resp.status, body: await resp.json() };
}

/** The sign-in link that comes back to `next` (a local path; the server checks it again). */
export function loginHref(next = location.pathname) {
  return /^\/[A-Za-z0-9._~/-]*$/.test(next) && !next.startsWith('//')
    ? `/auth/login?next=${next}`
    : '/auth/login';
}

export class Session {
  constructor(onChange = () => {}) {
    this.onChange = onChange;
    this.me = { signed_in: false, sign_in: false, eid: false };
    this.loaded = false;
    this.timer = null;
  }

  /** Signed in through the provider with a role other than citizen. */
  get signedIn() {
    return Boolean(this.me.signed_in && this.me.role && this.me.role !== 'citizen');
  }

  hasRole(roles) {
    return this.signedIn && roles.includes(this.me.role);
  }

  /** Ask who is signed in (the server also clears a dead cookie); resolves to `me`. */
  async load() {
    try {
      const got = await getJson('/auth/me');
      if (got.ok) this.me = got.body;
    } catch { /* the server is not reachable: the page's own status says so */ }
    this.loaded = true;
    this.changed();
    return this.me;
  }

  async refresh() {
    try {
      const got = await getJson('/auth/refresh');
      if (got.ok) this.me = got.body;
      else if (got.status === 401) this.me = { ...this.me, signed_in: false, role: null, name: null };
    } catch { /* try again at the next round */ }
    this.changed();
  }

  changed() {
    this.schedule();
    this.onChange(this.me);
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.me.signed_in) return;
    const delay = Math.max(MIN_REFRESH_MS, (Number(this.me.refresh_in) || 0) * 1000);
    this.timer = setTimeout(() => this.refresh(), delay);
  }

  /** For a page's test hook. */
  snapshot() {
    return {
      loaded: this.loaded,
      signedIn: this.signedIn,
      role: this.me.role ?? null,
      name: this.me.name ?? null,
      signIn: Boolean(this.me.sign_in),
      eid: Boolean(this.me.eid),
    };
  }
}

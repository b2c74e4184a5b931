// The dashboard's HTTP side: requests as the signed-in manager, and the poller.
//
//   const api = new Api(() => token);   // '' -> the session cookie (no Authorization header)
//   const data = await api.json('/api/insight/dashboard');   // throws ApiError
//   const { blob, filename } = await api.file('/api/insight/report.csv?...');
//
//   const poller = new Poller(async () => {...}, 5000);
//   poller.start(); poller.pause(); poller.resume(); poller.stop();
//
// The poller runs one request at a time and waits `intervalMs` after each
// finished one (longer after failures, up to a minute), never while paused,
// stopped or while the tab is hidden (it catches up when the tab shows again).

export class ApiError extends Error {
  constructor(status, code, reason = '') {
    super(`${status} ${code}${reason ? `: ${reason}` : ''}`);
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(path, accept) {
    // A development role token goes as a bearer header, without cookies; otherwise the
    // sign-in session's HttpOnly cookie says who asks.
    const token = this.token();
    const headers = { Accept: accept };
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(path, { headers, cache: 'no-store', credentials: token ? 'omit' : 'same-origin' });
    } catch {
      throw new ApiError(0, 'network');
    }
    if (!res.ok) {
      let code = { 401: 'unauthorized', 403: 'forbidden', 400: 'bad_request' }[res.status] ?? 'http';
      let reason = '';
      try {
        const body = await res.json();
        code = body?.error?.code ?? code;
        reason = body?.error?.reason ?? '';
      } catch { /* not JSON */ }
      throw new ApiError(res.status, code, reason);
    }
    return res;
  }

  async json(path) {
    const res = await this.request(path, 'application/json');
    return res.json();
  }

  /** A download: the body as a Blob, and the file name the server suggests (or null). */
  async file(path, accept = 'text/csv') {
    const res = await this.request(path, accept);
    const disposition = res.headers.get('Content-Disposition') || '';
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    return { blob: await res.blob(), filename: match ? decodeURIComponent(match[1]) : null };
  }
}

export class Poller {
  constructor(fn, intervalMs = 5000, maxMs = 60_000) {
    this.fn = fn;
    this.intervalMs = intervalMs;
    this.maxMs = maxMs;
    this.timer = null;
    this.inflight = false;
    this.paused = false;
    this.stopped = true;
    this.failures = 0;
    this.waitingForTab = false;
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.waitingForTab) this.now();
    });
  }

  start() {
    this.stopped = false;
    this.failures = 0;
    this.now();
  }

  stop() {
    this.stopped = true;
    this.clear();
  }

  pause() {
    this.paused = true;
    this.clear();
  }

  resume() {
    this.paused = false;
    this.now();
  }

  clear() {
    clearTimeout(this.timer);
    this.timer = null;
    this.waitingForTab = false;
  }

  /** Fetch now (unless paused, stopped, hidden, or a request is still running). */
  now() {
    this.clear();
    if (this.paused || this.stopped) return;
    if (document.hidden) {
      this.waitingForTab = true;
      return;
    }
    if (this.inflight) return; // its end schedules the next one
    this.inflight = true;
    Promise.resolve()
      .then(() => this.fn())
      .then(() => { this.failures = 0; }, () => { this.failures += 1; })
      .finally(() => {
        this.inflight = false;
        this.schedule();
      });
  }

  schedule() {
    if (this.paused || this.stopped) return;
    const delay = Math.min(this.maxMs, this.intervalMs * 2 ** Math.min(this.failures, 4));
    this.timer = setTimeout(() => this.now(), delay);
  }
}

// Role tokens (`servicepoint token`) are for development and tests; staff sign in at the
// identity provider (core/signin.js) and never handle a token.
//
// takeDevToken(): a role token handed to the hall page for development without the address
// bar (a test puts it in sessionStorage under DEV_TOKEN_KEY before the page loads); read once.
//
// A staff member's role token on a standalone page (the dashboard, the Q&A page):
// kept in sessionStorage under the page's own key, taken once from a `#token=`
// link (a fragment never reaches the server, so the token is in no access log)
// and wiped from the address bar. Never shown, never logged.
//
//   let token = storedToken(KEY);
//   token = takeTokenFromLink(KEY, '#/') ?? token;

export const DEV_TOKEN_KEY = 'servicepoint.devtoken';

export function takeDevToken() {
  try {
    const value = sessionStorage.getItem(DEV_TOKEN_KEY);
    sessionStorage.removeItem(DEV_TOKEN_KEY);
    return value || null;
  } catch {
    return null;
  }
}

export function storedToken(key) {
  try { return sessionStorage.getItem(key) || ''; } catch { return ''; }
}

export function keepToken(key, value) {
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch { /* private mode: kept in memory only */ }
}

/** The token of a `#token=` link (kept under `key`), or null; the rest of the
 * fragment stays in the address bar (`emptyHash` when nothing is left). */
export function takeTokenFromLink(key, emptyHash = '') {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromLink = fragment.get('token');
  if (!fromLink) return null;
  keepToken(key, fromLink);
  fragment.delete('token');
  const rest = fragment.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : emptyHash}`);
  return fromLink;
}

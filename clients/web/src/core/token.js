// Role tokens (`servicepoint token`) are for development and tests; staff sign in at the
// identity provider (core/signin.js) and never handle a token.
//
// takeDevToken(): a role token handed to the hall page for development without the address
// bar (a test puts it in sessionStorage under DEV_TOKEN_KEY before the page loads); read once.
//
// A development role token on a standalone page (the dashboard, the Q&A page): pasted
// into the page's password field and kept in sessionStorage under the page's own key
// (this tab only). Never taken from the address, never shown, never logged. Staff who
// sign in at the identity provider use the session cookie instead (core/session.js).
//
//   let token = storedToken(KEY);
//   keepToken(KEY, pasted);   // keepToken(KEY, '') forgets it

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

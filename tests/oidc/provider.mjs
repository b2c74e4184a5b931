// The bundled test OpenID Connect provider: `oidc-provider` with in-memory users and groups.
//
//   node tests/oidc/provider.mjs                      # http://127.0.0.1:9000, the users below
//   OIDC_PORT=0 node tests/oidc/provider.mjs          # a free port (printed)
//
// For tests and for trying servicepoint's staff sign-in by hand; never for production
// (memory only, HTTP, known passwords). When it listens it prints one JSON line:
//   {"issuer": "http://127.0.0.1:9000", "port": 9000}
//
// Environment (all optional):
//   OIDC_HOST, OIDC_PORT        where to listen (127.0.0.1, 9000; 0 picks a free port)
//   OIDC_ISSUER                 the issuer URL (default http://<host>:<port>)
//   OIDC_JWKS_FILE              a private JWKS ({"keys": [...]}) to sign ID tokens with; default:
//                               a fresh RSA key (the tests pass their own, to craft bad tokens)
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET    the one registered client (servicepoint / dev-secret...)
//   OIDC_REDIRECT_URIS          its comma-separated redirect URIs
//                               (default http://127.0.0.1:8000/auth/callback and localhost)
//   OIDC_POST_LOGOUT_URIS       where RP-initiated logout may send the browser back to
//   OIDC_USERS                  "staff" (the staff directory below, default) or "eid" (citizens
//                               with a national id number, for the eID broker stand-in)
//   OIDC_REGISTRATION=1         also allow dynamic client registration (the tests register a
//                               client per server port)
//
// Sign-in is a minimal login form (login + password, checked); consent is skipped (a
// first-party client). PKCE (S256) is required of every client.

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;
const HOST = env.OIDC_HOST || '127.0.0.1';
const PORT = Number(env.OIDC_PORT ?? 9000);

// --- the users -------------------------------------------------------------------------
// Every password is "pw-" followed by the login (e.g. sara.lind / pw-sara.lind).
const STAFF = {
  'sara.lind': { name: 'Sara Lind', email: 'sara.lind@example.org', groups: ['sp-staff', 'sp-desk-general', 'sp-lang-da'] },
  'jonas.weber': { name: 'Jonas Weber', email: 'jonas.weber@example.org', groups: ['sp-staff', 'sp-desk-permits'] },
  'hanne.host': { name: 'Hanne Host', email: 'hanne.host@example.org', groups: ['sp-hosts'] },
  'mia.berg': { name: 'Mia Berg', email: 'mia.berg@example.org', groups: ['sp-managers'] },
  'ada.admin': { name: 'Ada Admin', email: 'ada.admin@example.org', groups: ['sp-admins', 'sp-staff'] },
  'cai.captions': { name: 'Cai Captions', email: 'cai@example.org', groups: ['sp-captioners'] },
  'nils.nogroup': { name: 'Nils Nogroup', email: 'nils@example.org', groups: ['other-department'] },
};
const CITIZENS = {
  'eva.eid': { name: 'Eva Andersson', personnummer: '19900101-1234', birthdate: '1990-01-01' },
  'otto.eid': { name: 'Otto Olsen', personnummer: '010203-4567', birthdate: '2003-02-01' },
};
const USERS = env.OIDC_USERS === 'eid' ? CITIZENS : STAFF;

function account(id) {
  const user = USERS[id];
  if (!user) return undefined;
  return {
    accountId: id,
    async claims() {
      return { sub: id, preferred_username: id, ...user };
    },
  };
}

// --- keys ------------------------------------------------------------------------------
function signingKeys() {
  if (env.OIDC_JWKS_FILE) return JSON.parse(readFileSync(env.OIDC_JWKS_FILE, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-rsa-1', use: 'sig', alg: 'RS256' }] };
}

// --- the provider ----------------------------------------------------------------------
const listener = createServer();
await new Promise((resolve) => listener.listen(PORT, HOST, resolve));
const port = listener.address().port;
const issuer = env.OIDC_ISSUER || `http://${HOST}:${port}`;
const list = (value, fallback) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : fallback);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env.OIDC_CLIENT_ID || 'servicepoint',
      client_secret: env.OIDC_CLIENT_SECRET || 'dev-secret-for-the-test-provider-only',
      redirect_uris: list(env.OIDC_REDIRECT_URIS, [
        'http://127.0.0.1:8000/auth/callback',
        'http://localhost:8000/auth/callback',
        'http://127.0.0.1:8000/auth/eid/callback',
      ]),
      post_logout_redirect_uris: list(env.OIDC_POST_LOGOUT_URIS, [
        'http://127.0.0.1:8000/',
        'http://localhost:8000/',
      ]),
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
  ],
  jwks: signingKeys(),
  findAccount: (_ctx, id) => account(id),
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'birthdate'],
    email: ['email'],
    groups: ['groups'],
    national_id: ['personnummer'],
  },
  scopes: ['openid', 'profile', 'email', 'groups', 'national_id'],
  // Scope claims in the ID token itself (the relying party reads groups from it).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: env.OIDC_REGISTRATION === '1' },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: [Math.random().toString(36).slice(2) + Date.now().toString(36)] },
  ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Session: 3600, Interaction: 600, Grant: 3600 },
  // A first-party client: consent is implied (the recipe "skipping consent").
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Sign-in error</title><h1>Sign-in error</h1><p id="error">${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`;
  },
});

// --- the login form --------------------------------------------------------------------
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, error = '') {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body>
<h1>Sign in to the test provider</h1>
<form method="post" action="/interaction/${escape(uid)}/login">
  <p><label for="login">User name</label> <input id="login" name="login" autocomplete="username" required autofocus></p>
  <p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
  <p id="login-error" role="alert">${escape(error)}</p>
  <p><button type="submit" id="login-submit">Sign in</button></p>
</form>
</body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 8192) break;
  }
  return new URLSearchParams(body);
}

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  const [, uid, login] = match;
  ctx.set('Cache-Control', 'no-store');
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  if (details.prompt.name !== 'login') {
    // Consent is implied for the first-party client.
    const grant = await provider.Grant.find(details.grantId ?? '') ?? new provider.Grant({
      accountId: details.session.accountId, clientId: details.params.client_id,
    });
    if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
    if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (ctx.method === 'GET' && !login) {
    ctx.type = 'html';
    ctx.body = loginPage(uid);
    return undefined;
  }
  if (ctx.method === 'POST' && login) {
    const form = await readForm(ctx.req);
    const id = form.get('login') ?? '';
    if (!USERS[id] || form.get('password') !== `pw-${id}`) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(uid, 'Wrong user name or password.');
      return undefined;
    }
    return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: id } }, { mergeWithLastSubmission: false });
  }
  return ctx.throw(405);
});

listener.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { listener.close(); process.exit(0); });

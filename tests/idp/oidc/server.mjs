// A real OpenID Provider for the federation tests: panva's oidc-provider, served over HTTPS on
// 127.0.0.1, with the provider's own development login and consent pages.
//
// Usage: node server.mjs CONFIG.json   (or OIDC_IDP_CONFIG=CONFIG.json node server.mjs)
//
// CONFIG.json, written by tests/idp/oidc_fixtures.py:
//   port       TCP port on 127.0.0.1; 0 lets the system choose a free one
//   tls        { "cert": PEM path, "key": PEM path }
//   jwks       { "keys": [private JWKs] } the ID token signing keys (one per algorithm)
//   clients    oidc-provider client metadata (client_id, redirect_uris, ...)
//   accounts   { login name: { extra claims } }; any login name signs in, and its sub is the
//              login name; the extra claims are those of the account with that name, if any
//
// When listening it prints one line: "OIDC IdP ready at https://127.0.0.1:PORT" (the issuer).
//
// oidc-provider 9 names Node.js 22 LTS as its minimum and logs "Unsupported runtime" on Node.js
// 20, the machine's; the flows the tests use work there, as tests/idp/test_oidc_idp.py shows.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

import Provider from 'oidc-provider';

const configPath = process.argv[2] || process.env.OIDC_IDP_CONFIG;
if (!configPath) {
  console.error('usage: node server.mjs CONFIG.json (or set OIDC_IDP_CONFIG)');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const accounts = config.accounts || {};

// The standard claims of the profile and email scopes (OpenID Connect Core 5.4). Every other
// claim an account carries (ram_role, groups, ...) is released with the openid scope, so that
// it reaches the ID token of any sign-in without the client asking for a special scope.
const PROFILE_CLAIMS = [
  'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username',
  'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
];
const EMAIL_CLAIMS = ['email', 'email_verified'];
const standard = new Set(['sub', ...PROFILE_CLAIMS, ...EMAIL_CLAIMS]);
const customClaims = new Set();
for (const claims of Object.values(accounts)) {
  for (const name of Object.keys(claims)) {
    if (!standard.has(name)) customClaims.add(name);
  }
}

const providerConfiguration = {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub', ...customClaims],
    profile: PROFILE_CLAIMS,
    email: EMAIL_CLAIMS,
  },
  // By default a code-flow ID token carries only sub and the protocol claims, and the scope
  // claims go to the userinfo endpoint; federation reads them from the ID token instead.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { ...(accounts[id] || {}), sub: id };
      },
    };
  },
};

// The development pages' stylesheet imports a web font from the internet. The tests reach no
// network beyond this machine, so the line is dropped from every HTML page the provider serves.
const WEB_FONT_IMPORT = /@import url\(https:\/\/fonts\.googleapis\.com\/[^)]*\);/g;
async function withoutWebFont(ctx, next) {
  await next();
  if (ctx.response.is('html') && typeof ctx.body === 'string') {
    ctx.body = ctx.body.replace(WEB_FONT_IMPORT, '');
  }
}

const tls = { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) };
const server = createServer(tls);
server.listen(config.port || 0, '127.0.0.1', () => {
  // The issuer names the port, which is known only once listening when the port was 0.
  const issuer = `https://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, providerConfiguration);
  provider.use(withoutWebFont);
  server.on('request', provider.callback());
  console.log(`OIDC IdP ready at ${issuer}`);
});

// An independent OpenID provider for Maca's tests: panva's oidc-provider
// (OpenID Certified), installed from package-lock.json, over TLS with a
// certificate from a test authority the test run makes.
//
// Its claim layout is deliberately unlike Maca's development provider's:
//   - an organisation code in `org`, an agency kind (people only) in
//     `agency`, no partnership claim at all;
//   - people's roles as group names in `groups` ("lscp-coordinators",
//     "maca-admins"), a machine client's as its granted scope
//     ("audit:contribute");
//   - the display name in `display_name`;
//   - access tokens are RFC 9068 JWTs (typ at+jwt) for the resource
//     indicator RESOURCE.
// Maca is configured for it only through documented environment variables
// (README, "Signing in": the third recipe).
//
// Environment: PORT, ISSUER (https://localhost:PORT), CERT and KEY (PEM
// files), RESOURCE (the API's resource indicator = OIDC_AUDIENCE), and
// MACA_REDIRECT_URI (Maca's /auth/callback). Prints "ready" when listening.

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

import Provider from 'oidc-provider';

const { PORT, ISSUER, CERT, KEY, RESOURCE, MACA_REDIRECT_URI } = process.env;

// People who sign in (any password is accepted: devInteractions).
const PEOPLE = {
  'ash.admin': {
    display_name: 'Ash Admin',
    org: 'LSCP-TEAM',
    agency: 'childrens-social-care',
    groups: ['maca-admins', 'staff'],
  },
  'casey.coordinator': {
    display_name: 'Casey Coordinator',
    org: 'CSC-01',
    groups: ['lscp-coordinators', 'staff'],
  },
};

// Agencies' systems: each names its organisation, nothing else.
const SYSTEMS = {
  'police-records': { secret: 'police-records-secret', org: 'POL-01', scope: 'audit:contribute' },
  'csc-case-system': { secret: 'csc-case-system-secret', org: 'CSC-01', scope: 'audit:coordinate' },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'independent-1', use: 'sig', alg: 'RS256' };

const provider = new Provider(ISSUER, {
  clients: [
    {
      client_id: 'maca-web',
      token_endpoint_auth_method: 'none',
      redirect_uris: [MACA_REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    ...Object.entries(SYSTEMS).map(([clientId, system]) => ({
      client_id: clientId,
      client_secret: system.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: system.scope,
    })),
  ],
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'profile', 'audit:contribute', 'audit:coordinate'],
  claims: { openid: ['sub'], profile: ['display_name'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'audit:contribute audit:coordinate',
        audience: RESOURCE,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, display_name: PEOPLE[id]?.display_name ?? id };
      },
    };
  },
  async extraTokenClaims(_ctx, token) {
    if (token.kind === 'ClientCredentials') {
      return { org: SYSTEMS[token.clientId]?.org };
    }
    const person = PEOPLE[token.accountId];
    if (!person) return undefined;
    const { display_name: displayName, ...rest } = person;
    return { display_name: displayName, ...rest };
  },
});

const server = createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, provider.callback());
server.listen(Number(PORT), () => console.log('ready'));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

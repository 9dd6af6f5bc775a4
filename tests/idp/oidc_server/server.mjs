// A stand-in for Keycloak's OpenID Connect endpoints, for EdLink's tests only (never shipped).
//
// panva's oidc-provider (an OpenID-certified provider) on loopback, mounted at /realms/REALM
// with its routes set to Keycloak's paths, so python-keycloak's KeycloakOpenID talks to it
// exactly as it talks to a realm:
//
//   /realms/REALM/.well-known/openid-configuration
//   /realms/REALM/protocol/openid-connect/{auth,token,userinfo,certs,logout,token/introspect,revoke}
//
// Shims for the known differences to Keycloak (kept here, not in the product):
// - sign-in: our own small username/password page (Keycloak's login form), and no consent
//   screen for the configured clients (Keycloak asks for none by default);
// - sign-out: Keycloak ends the session at once for a request with id_token_hint; oidc-provider
//   asks "do you want to sign out?", so the question is a form that submits itself;
// - post-logout redirects: a native client's loopback address matches on any port, as its
//   redirect URIs do (RFC 8252; Keycloak's equivalent is a wildcard in the client's list);
// - access tokens: Keycloak issues JWTs whose `aud` holds the client when an audience mapper is
//   configured; here resource indicators do that (a default resource with the client's id as
//   audience), and each resource says whether its tokens are JWTs or opaque (introspection);
//   `preferred_username` is added to access tokens as Keycloak does.
//
// Usage: node server.mjs CONFIG.json   (prints one JSON line {"issuer": ..., "port": ...} when ready)
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { URLSearchParams } from 'node:url';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const realm = config.realm || 'edlink';
const host = config.host || '127.0.0.1';
const prefix = `/realms/${realm}`;
const users = config.users || [];
const resources = config.resources || {};

function signingKey() {
  if (config.jwk) return config.jwk;
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };
}

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function findUser(sub) {
  return users.find((u) => u.sub === sub);
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

function loginForm(uid, message, username) {
  return page(`Sign in to ${realm}`, `
    ${message ? `<p role="alert" id="input-error">${escapeHtml(message)}</p>` : ''}
    <form id="kc-form-login" method="post" action="${prefix}/login-actions/${uid}/login">
      <label for="username">Username or email</label>
      <input id="username" name="username" autocomplete="username" value="${escapeHtml(username)}">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password">
      <button type="submit" id="kc-login">Sign In</button>
    </form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function defaultResourceFor(client) {
  return config.default_resource && resources[config.default_resource] ? config.default_resource : undefined;
}

const server = http.createServer();
await new Promise((resolve) => { server.listen(config.port || 0, host, resolve); });
const { port } = server.address();
const issuer = `http://${host}:${port}${prefix}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey()] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  conformIdTokenClaims: false, // Keycloak puts the profile claims in the ID token too
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  ttl: {
    AccessToken: config.access_token_ttl || 300,
    AuthorizationCode: 60,
    IdToken: 300,
    Session: 3600,
    Grant: 3600,
    Interaction: 600,
  },
  routes: {
    authorization: '/protocol/openid-connect/auth',
    token: '/protocol/openid-connect/token',
    userinfo: '/protocol/openid-connect/userinfo',
    jwks: '/protocol/openid-connect/certs',
    end_session: '/protocol/openid-connect/logout',
    introspection: '/protocol/openid-connect/token/introspect',
    revocation: '/protocol/openid-connect/revoke',
  },
  interactions: { url: (ctx, interaction) => `${prefix}/login-actions/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        // Keycloak does not ask when the request carries id_token_hint: answer "yes" at once
        const yes = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>');
        ctx.body = page('Signing out', `${yes}
          <noscript><button type="submit" form="op.logoutForm">Sign out</button></noscript>
          <script>document.getElementById('op.logoutForm').submit()</script>`);
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf || defaultResourceFor(client),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, indicator) => {
        const info = resources[indicator];
        if (!info) throw new errors.InvalidTarget();
        return {
          scope: info.scope || 'openid profile email',
          audience: info.audience,
          accessTokenTTL: info.ttl || config.access_token_ttl || 300,
          accessTokenFormat: info.format || 'jwt',
          ...(info.format === 'opaque' ? {} : { jwt: { sign: { alg: 'RS256' } } }),
        };
      },
    },
  },
  // no consent screen for our clients: the grant covers what they asked for
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email offline_access');
    for (const [indicator, info] of Object.entries(resources)) {
      grant.addResourceScope(indicator, info.scope || 'openid profile email');
    }
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, sub) => {
    const user = findUser(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          preferred_username: user.username,
          name: [user.given_name, user.family_name].filter(Boolean).join(' ') || user.username,
          given_name: user.given_name,
          family_name: user.family_name,
          email: user.email,
          email_verified: Boolean(user.email),
        };
      },
    };
  },
  extraTokenClaims: async (ctx, token) => {
    const user = token.accountId ? findUser(token.accountId) : undefined;
    return user ? { preferred_username: user.username, azp: token.clientId } : undefined;
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Sign-in error', Object.entries(out)
      .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`).join(''));
  },
});
const exactPostLogout = provider.Client.prototype.postLogoutRedirectUriAllowed;
provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(value) {
  if (exactPostLogout.call(this, value)) return true;
  let parsed;
  try { parsed = new URL(value); } catch { return false; }
  if (this.applicationType !== 'native' || parsed.protocol !== 'http:' || parsed.hostname !== '127.0.0.1') return false;
  parsed.port = '';
  return this.postLogoutRedirectUris.some((allowed) => new URL(allowed).href === parsed.href);
};
provider.on('server_error', (ctx, err) => { console.error('server_error', err); });

const callback = provider.callback();

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  const { prompt } = details;
  if (prompt.name === 'login') {
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const username = (form.get('username') || '').trim();
      const user = users.find((u) => u.username.toLowerCase() === username.toLowerCase()
        || (u.email && u.email.toLowerCase() === username.toLowerCase()));
      if (!user || user.password !== form.get('password')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(loginForm(uid, 'Invalid username or password.', username));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: user.sub } },
        { mergeWithLastSubmission: false });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(loginForm(uid, '', ''));
    return;
  }
  // consent (not reached for our clients, whose grant loadExistingGrant makes): accept
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (!url.pathname.startsWith(`${prefix}/`) && url.pathname !== prefix) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'Realm does not exist' }));
      return;
    }
    const rest = url.pathname.slice(prefix.length);
    const match = rest.match(/^\/login-actions\/([\w-]+)(?:\/(\w+))?$/);
    if (match) {
      await interaction(req, res, match[1], match[2]);
      return;
    }
    // mount oidc-provider under the realm's path, as express's app.use(prefix, ...) would
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || '/';
    callback(req, res);
  } catch (err) {
    res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page('Sign-in error', `<p>${escapeHtml(err.message)}</p>`));
  }
});

process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => { server.close(); process.exit(0); });
}

// A test-only OpenID Connect provider for the browser tests, on node
// built-ins only. e2e/run.sh starts it over https with a throwaway
// self-signed certificate and points torget's [oidc] settings at it.
//
//   node e2e/oidc-provider.mjs --cert C --key K --port-file F --client-id ID --client-secret S --redirect URL
//
// It serves the discovery document, the JWKS (one RS256 key made at start),
// GET /authorize (a small accessible form asking which username to sign in
// as: the test types a mapped or an unmapped one), POST /authorize (issues
// a one-time code bound to the PKCE challenge and nonce and redirects back)
// and POST /token (checks client, code, redirect URI and PKCE verifier, and
// returns an ID token with iss, aud, sub, nonce, iat, exp and
// preferred_username). It writes its port to --port-file once listening.
import { createHash, createSign, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    cert: { type: 'string' }, key: { type: 'string' }, 'port-file': { type: 'string' },
    'client-id': { type: 'string' }, 'client-secret': { type: 'string' }, redirect: { type: 'string' },
  },
});
for (const k of ['cert', 'key', 'port-file', 'client-id', 'client-secret', 'redirect']) {
  if (!opt[k]) { console.error(`oidc-provider: --${k} is required`); process.exit(2); }
}

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = randomBytes(8).toString('hex');
const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
const b64u = (b) => Buffer.from(b).toString('base64url');
const codes = new Map(); // code → { username, nonce, challenge, redirect, until }
let issuer = '';

function sign(claims) {
  const head = b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64u(JSON.stringify(claims));
  const s = createSign('RSA-SHA256').update(`${head}.${body}`).sign(privateKey);
  return `${head}.${body}.${b64u(s)}`;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const same = (a, b) => { const x = Buffer.from(String(a)), y = Buffer.from(String(b)); return x.length === y.length && timingSafeEqual(x, y); };

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}
const json = (res, status, v) => send(res, status, 'application/json', JSON.stringify(v));

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

function authorizeForm(q) {
  const hidden = ['client_id', 'redirect_uri', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'scope', 'response_type']
    .map((k) => `<input type="hidden" name="${k}" value="${esc(q.get(k) ?? '')}">`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test identity provider</title></head>
<body><main>
<h1>Test identity provider</h1>
<form method="post" action="/authorize">
${hidden}
<p><label for="username">Username</label><br><input id="username" name="username" type="text" required autocomplete="username"></p>
<p><button type="submit">Continue</button></p>
</form>
</main></body></html>`;
}

async function handle(req, res) {
  const u = new URL(req.url, issuer);
  if (req.method === 'GET' && u.pathname === '/.well-known/openid-configuration') {
    return json(res, 200, {
      issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'profile'], token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'], claims_supported: ['sub', 'iss', 'aud', 'nonce', 'preferred_username'],
    });
  }
  if (req.method === 'GET' && u.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
  if (req.method === 'GET' && u.pathname === '/authorize') {
    const q = u.searchParams;
    if (q.get('client_id') !== opt['client-id'] || q.get('redirect_uri') !== opt.redirect || q.get('response_type') !== 'code' ||
      !(q.get('scope') || '').split(' ').includes('openid') || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad authorization request');
    }
    return send(res, 200, 'text/html; charset=utf-8', authorizeForm(q));
  }
  if (req.method === 'POST' && u.pathname === '/authorize') {
    const f = await readBody(req);
    if (f.get('client_id') !== opt['client-id'] || f.get('redirect_uri') !== opt.redirect || !f.get('username')) {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad authorization request');
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, { username: f.get('username').trim(), nonce: f.get('nonce'), challenge: f.get('code_challenge'), redirect: f.get('redirect_uri'), until: Date.now() + 60_000 });
    const back = new URL(opt.redirect);
    back.searchParams.set('code', code);
    back.searchParams.set('state', f.get('state') ?? '');
    return send(res, 303, 'text/plain', '', { Location: back.href });
  }
  if (req.method === 'POST' && u.pathname === '/token') {
    const f = await readBody(req);
    let id = f.get('client_id'), secret = f.get('client_secret');
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization || '');
    if (basic) {
      const [a, b] = Buffer.from(basic[1], 'base64').toString().split(':');
      id = decodeURIComponent(a); secret = decodeURIComponent(b ?? '');
    }
    if (!same(id ?? '', opt['client-id']) || !same(secret ?? '', opt['client-secret'])) return json(res, 401, { error: 'invalid_client' });
    const c = codes.get(f.get('code') ?? '');
    codes.delete(f.get('code') ?? '');
    if (f.get('grant_type') !== 'authorization_code' || !c || c.until < Date.now() || f.get('redirect_uri') !== c.redirect) {
      return json(res, 400, { error: 'invalid_grant' });
    }
    const challenge = createHash('sha256').update(f.get('code_verifier') ?? '').digest('base64url');
    if (!same(challenge, c.challenge)) return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verifier does not match' });
    const now = Math.floor(Date.now() / 1000);
    const idToken = sign({ iss: issuer, aud: opt['client-id'], sub: `sub-${c.username}`, nonce: c.nonce, iat: now, exp: now + 300, preferred_username: c.username });
    return json(res, 200, { access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 300, id_token: idToken });
  }
  return send(res, 404, 'text/plain; charset=utf-8', 'not found');
}

const server = createServer({ cert: readFileSync(opt.cert), key: readFileSync(opt.key) }, (req, res) => {
  handle(req, res).catch((err) => { console.error(err); if (!res.headersSent) send(res, 500, 'text/plain', 'error'); });
});
server.listen(0, '127.0.0.1', () => {
  issuer = `https://127.0.0.1:${server.address().port}`;
  writeFileSync(opt['port-file'], String(server.address().port));
  console.log(`oidc-provider at ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

// Shared helpers for the browser tests: the server under test (started by
// e2e/run.sh), headless Chromium, axe-core, screenshots on failure, TOTP.
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests with bash e2e/run.sh`);
  return v;
}

// BASE is the demo's own URL (http://localhost:PORT): the server checks a
// form's Origin against it, so the browser must use exactly this origin.
export const BASE = env('TORGET_E2E_BASE').replace(/\/$/, '');
export const ADMIN = { username: 'admin', password: env('TORGET_E2E_ADMIN_PASSWORD') };
export const TOTP_USER = { username: env('TORGET_E2E_TOTP_USER'), password: env('TORGET_E2E_TOTP_PASSWORD') };
export const EDITOR = { username: env('TORGET_E2E_EDITOR_USER'), password: env('TORGET_E2E_EDITOR_PASSWORD'), group: env('TORGET_E2E_EDITOR_GROUP') };
export const OIDC_USER = env('TORGET_E2E_OIDC_USER');
export const GROUP = 'hagersten-alvsjo';

const host = new URL(BASE).hostname;
if (host !== 'localhost' && host !== '127.0.0.1') throw new Error(`browser tests only run against localhost, not ${BASE}`);

// launch starts Debian's chromium; playwright-core gives every launch a
// fresh temporary profile (user-data-dir) and removes it on close. Every
// name other than localhost (and the literal 127.0.0.1 of the test OIDC
// provider) fails to resolve, so a test never reaches the
// network.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
      '--host-resolver-rules=MAP localhost 127.0.0.1, EXCLUDE 127.0.0.1, MAP * ~NOTFOUND'],
  });
}

let shotDir;
// withPage runs fn with a fresh page in a fresh context; when fn throws, it
// saves a screenshot to a temporary directory and prints its path.
export async function withPage(browser, t, fn, contextOptions = {}) {
  const context = await browser.newContext({ bypassCSP: true, locale: 'sv-SE', ...contextOptions });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  try {
    await fn(page);
  } catch (err) {
    try {
      shotDir ??= mkdtempSync(join(tmpdir(), 'torget-e2e-shots-'));
      const file = join(shotDir, `${t.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.error(`screenshot of the failing page (${page.url()}): ${file}`);
    } catch (shotErr) {
      console.error(`no screenshot: ${shotErr.message}`);
    }
    throw err;
  } finally {
    await context.close();
  }
}

// goto opens a path on the server and fails on an unexpected status.
export async function goto(page, path, status = 200) {
  const res = await page.goto(BASE + path);
  if (!res || res.status() !== status) {
    throw new Error(`GET ${path}: status ${res && res.status()}, want ${status}`);
  }
  return res;
}

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// axeCheck runs axe-core on the current page and throws, listing each
// serious or critical violation with its rule and elements.
export async function axeCheck(page) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const results = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
    }));
  }, AXE_TAGS);
  const bad = results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = results.filter((v) => !bad.includes(v));
  if (minor.length) {
    console.log(`axe on ${page.url()}: ${minor.length} minor/moderate: ${minor.map((v) => `${v.id} (${v.impact})`).join(', ')}`);
  }
  if (bad.length) {
    const text = bad.map((v) => `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
      v.nodes.map((n) => `    ${n.target}\n      ${n.html}\n      ${(n.summary || '').replace(/\n/g, '\n      ')}`).join('\n')).join('\n');
    throw new Error(`axe: ${bad.length} serious or critical violation(s) on ${page.url()}:\n${text}`);
  }
}

// signIn signs in with the form (mouse-free fill, but no keyboard checks).
export async function signIn(page, user) {
  await goto(page, '/login');
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
}

// totp computes an RFC 6238 code: HMAC-SHA1, 30 s steps, 6 digits.
export function totp(secretBase32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', key).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1e6).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 1000 / 30);

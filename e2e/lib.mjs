// Shared helpers for the browser tests: the server under test (started by
// e2e/run.sh), headless Chromium, axe-core, screenshots on failure, TOTP.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
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
export const ADMIN2 = { username: env('TORGET_E2E_ADMIN2_USER'), password: env('TORGET_E2E_ADMIN2_PASSWORD') };
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

// focused describes the element that has the focus.
export const focused = (page) => page.evaluate(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return { tag: 'body' };
  return { tag: e.tagName.toLowerCase(), id: e.id, form: e.form ? e.form.getAttribute('action') : null, cls: e.className, href: e.getAttribute('href'), type: e.getAttribute('type'), value: e.getAttribute('value'), checked: !!e.checked,
    // The focus ring: the computed outline of the focused element.
    outline: (() => { const cs = getComputedStyle(e); return cs.outlineStyle === 'none' || cs.outlineWidth === '0px' ? 'none' : `${cs.outlineStyle} ${cs.outlineWidth}`; })(),
    text: (e.textContent || '').trim().slice(0, 40), visible: (() => {
      // On screen: a skip link parked off-screen until focused fails this.
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
    })() };
});

// tabTo presses Tab until check(focused) holds, and returns the elements
// focused on the way; it fails if the focus goes backwards in the document
// (a positive tabindex or a reordered layout) or lands on a hidden element.
export async function tabTo(page, check, max = 40) {
  const seen = [];
  await page.evaluate(() => { window.__prevFocus = null; });
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    seen.push(f);
    assert.ok(f.tag === 'body' || f.visible, `focus on an element off screen or hidden: ${JSON.stringify(f)}`);
    const forward = await page.evaluate(() => {
      const prev = window.__prevFocus, cur = document.activeElement;
      window.__prevFocus = cur;
      // Staying put is allowed: Tab walks the day/month/year parts of a
      // date input before it leaves it.
      return !prev || prev === cur || !!(prev.compareDocumentPosition(cur) & Node.DOCUMENT_POSITION_FOLLOWING);
    });
    assert.ok(forward, `focus went backwards to ${JSON.stringify(f)} after ${JSON.stringify(seen.at(-2))}`);
    if (check(f)) return seen;
  }
  throw new Error(`not reached in ${max} tabs; focus order: ${seen.map((f) => f.id || f.href || f.text || f.tag).join(' → ')}`);
}

// pngImage encodes a w×h RGB gradient as a PNG (no dependency needed).
export function pngImage(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 8) & 255; raw[o + 1] = (y * 8) & 255; raw[o + 2] = 160;
    }
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// stockholm gives the date and time (with seconds) of t in the instance's
// time zone, as the schedule inputs take them.
export function stockholm(t) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(t).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}:${parts.second}` };
}

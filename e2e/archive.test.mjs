// The archive package's HTML rendering (REC-8) and its WARC snapshot (REC-9): opened from disk, without
// a server and without JavaScript, it is readable and axe-core finds no
// serious or critical WCAG 2.1 A/AA violations. e2e/run.sh exports the
// demo database to TORGET_E2E_ARCHIVE before the tests start.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { WARCParser } from 'warcio';
import { axeCheck, GROUP, launch, withPage } from './lib.mjs';

const pkg = process.env.TORGET_E2E_ARCHIVE;
if (!pkg || !existsSync(join(pkg, 'METS.xml'))) {
  throw new Error(`TORGET_E2E_ARCHIVE (${pkg}) is not an exported package: run the browser tests with bash e2e/run.sh`);
}
const html = join(pkg, 'representations', 'rep1', 'data', 'html');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

describe('archive package rendering', () => {
  for (const file of ['index.html', `group-${GROUP}.html`]) {
    test(`axe ${file}`, (t) => withPage(browser, t, async (page) => {
      const res = await page.goto(pathToFileURL(join(html, file)).href);
      assert.ok(res, `opened ${file}`);
      assert.ok((await page.textContent('h1')).trim().length > 0, 'the page has a heading');
      await axeCheck(page);
    }));
  }

  test('the group page shows the demo post, and no scripts', (t) => withPage(browser, t, async (page) => {
    const file = join(html, `group-${GROUP}.html`);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /<script/i, 'no script in the rendering');
    await page.goto(pathToFileURL(file).href);
    assert.match(await page.textContent('main'), /Välkommen till/);
    assert.match(await page.textContent('main'), /Upprättad/);
    // The index links the group page, relative, inside the package.
    await page.goto(pathToFileURL(join(html, 'index.html')).href);
    // (run.sh makes a second group, e2e-redaktion, so look for this one.)
    const hrefs = await page.locator('main a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.includes(`group-${GROUP}.html`), `the index links group-${GROUP}.html: ${hrefs.join(' ')}`);
  }));
});

// The overview snapshot (REC-9): the package's WARC of the group's public
// pages, parsed with warcio.js (not the Go writer), replayed in Chromium
// with every request answered from the WARC and nothing from the network.
const warcFile = join(pkg, 'representations', 'rep1', 'data', 'snapshot', `${GROUP}.warc.gz`);

function base32(buf) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '', out = '';
  for (const b of buf) bits += b.toString(2).padStart(8, '0');
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
}

// readWARC returns the responses by target URI, checking the record
// structure and every payload digest on the way.
async function readWARC(file) {
  const records = [];
  const parser = new WARCParser(createReadStream(file)); // gzip members are inflated by warcio
  for await (const record of parser) {
    const payload = record.warcType === 'warcinfo' ? null : await record.readFully(false);
    records.push({ type: record.warcType, uri: record.warcTargetURI, id: record.warcHeader('WARC-Record-ID'),
      concurrentTo: record.warcHeader('WARC-Concurrent-To'), payloadDigest: record.warcPayloadDigest,
      date: record.warcHeader('WARC-Date'), version: record.warcHeaders.protocol,
      info: record.getResponseInfo?.(), payload });
  }
  assert.ok(records.length > 3, `records: ${records.length}`);
  assert.equal(records[0].type, 'warcinfo', 'warcinfo first');
  const responses = new Map();
  const respIDs = new Set();
  for (const r of records) {
    assert.equal(r.version, 'WARC/1.1', `${r.type} ${r.uri}`);
    assert.match(r.date ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'WARC-Date');
    if (r.type !== 'response') continue;
    const want = 'sha1:' + base32(createHash('sha1').update(r.payload).digest());
    assert.equal(r.payloadDigest, want, `payload digest of ${r.uri}`);
    responses.set(r.uri, { status: r.info.status, headers: r.info.headers, body: Buffer.from(r.payload) });
    respIDs.add(r.id);
  }
  for (const r of records.filter((r) => r.type === 'request')) {
    assert.ok(respIDs.has(r.concurrentTo), `request ${r.uri} is concurrent to a response`);
  }
  return responses;
}

describe('archive snapshot (WARC) replays offline', () => {
  test('the group page renders from the WARC alone, with its posts and styles, and passes axe', (t) => withPage(browser, t, async (page) => {
    assert.ok(existsSync(warcFile), `${warcFile} is in the package`);
    const responses = await readWARC(warcFile);
    const groupURL = [...responses.keys()].find((u) => new URL(u).pathname === `/groups/${GROUP}`);
    assert.ok(groupURL, `the group page is in the WARC: ${[...responses.keys()].join(' ')}`);
    assert.equal(responses.get(groupURL).status, 200);

    const served = [], missed = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url().replace(/#.*$/, '');
      const r = responses.get(url);
      if (!r || route.request().method() !== 'GET') {
        missed.push(url);
        return route.abort('blockedbyclient');
      }
      served.push(url);
      const headers = {};
      for (const [k, v] of r.headers) {
        if (!/^(content-length|transfer-encoding|connection)$/i.test(k)) headers[k] = v;
      }
      return route.fulfill({ status: r.status, headers, body: r.body });
    });
    const res = await page.goto(groupURL);
    assert.equal(res.status(), 200);
    await page.waitForLoadState('load');
    assert.deepEqual(missed, [], 'every request of the page was answered from the WARC');
    assert.match(await page.textContent('main'), /Välkommen till/);
    assert.ok(await page.locator('main article').count() > 0, 'the posts are there');
    // The stylesheet came from the WARC and applies.
    assert.ok(served.some((u) => u.endsWith('/static/site.css')), `served: ${served.join(' ')}`);
    const rules = await page.evaluate(() => [...document.styleSheets].reduce((n, s) => n + s.cssRules.length, 0));
    assert.ok(rules > 10, `style rules in force: ${rules}`);
    // Every image loaded.
    const broken = await page.locator('img').evaluateAll((imgs) => imgs.filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src));
    assert.deepEqual(broken, [], 'images that did not load from the WARC');
    await axeCheck(page);
    assert.deepEqual(missed, [], 'nothing went past the WARC');

    // A post page linked from the group page is in the WARC too.
    const post = await page.locator(`main a[href*="/groups/${GROUP}/posts/"]`).first().getAttribute('href');
    const postURL = new URL(post, groupURL).href;
    assert.ok(responses.has(postURL), `post page ${postURL} in the WARC`);
    assert.equal((await page.goto(postURL)).status(), 200);
    assert.deepEqual(missed, [], 'the post page came from the WARC');
  }));
});

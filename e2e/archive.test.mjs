// The archive package's HTML rendering (REC-8): opened from disk, without
// a server and without JavaScript, it is readable and axe-core finds no
// serious or critical WCAG 2.1 A/AA violations. e2e/run.sh exports the
// demo database to TORGET_E2E_ARCHIVE before the tests start.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
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

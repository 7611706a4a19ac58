// Public pages: axe-core finds no serious or critical WCAG 2.1 A/AA
// violations, and the group page works without JavaScript.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { axeCheck, BASE, goto, GROUP, launch, withPage } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const pages = ['/', `/groups/${GROUP}`, '/about', '/about/privacy', '/about/accessibility', '/about/rules', '/tags/demo',
  '/tillganglighet', '/tillganglighet/feedback', '/official-groups'];

// The public pages exist in Swedish, English and Finnish; the browser's
// language (Accept-Language, from the context's locale) chooses.
const languages = [['sv', 'sv-SE'], ['en', 'en-GB'], ['fi', 'fi-FI']];

describe('axe on public pages', () => {
  for (const [lang, locale] of languages) {
    for (const path of pages) {
      test(`axe ${path} (${lang})`, (t) => withPage(browser, t, async (page) => {
        await goto(page, path);
        assert.equal(await page.getAttribute('html', 'lang'), lang);
        await axeCheck(page);
      }, { locale }));
    }
  }

  for (const [lang, locale] of languages) {
    test(`axe on a post permalink (${lang})`, (t) => withPage(browser, t, async (page) => {
      await goto(page, `/groups/${GROUP}`);
      const href = await page.getAttribute('article .meta a', 'href');
      assert.ok(href, 'the group page links a post');
      const path = new URL(href, BASE).pathname;
      assert.match(path, new RegExp(`^/groups/${GROUP}/posts/`));
      await goto(page, path);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      await axeCheck(page);
    }, { locale }));

    test(`axe on the follow form after an invalid handle (${lang})`, (t) => withPage(browser, t, async (page) => {
      await goto(page, `/groups/${GROUP}`);
      await page.fill('#follow-handle', 'inte en adress');
      const [res] = await Promise.all([page.waitForNavigation(), page.click('form.follow button[type=submit]')]);
      assert.equal(res.status(), 400);
      assert.equal(new URL(page.url()).pathname, '/follow');
      const error = page.locator('#follow-error[role=alert]');
      assert.ok(await error.isVisible(), 'the error is shown');
      assert.equal(await page.getAttribute('#follow-handle', 'aria-invalid'), 'true');
      assert.match(await page.getAttribute('#follow-handle', 'aria-describedby'), /follow-error/);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      await axeCheck(page);
    }, { locale }));
  }
});

test('feeds answer with XML', (t) => withPage(browser, t, async (page) => {
  for (const [path, type] of [[`/groups/${GROUP}/feed.rss`, /xml/], [`/groups/${GROUP}/feed.atom`, /xml/]]) {
    const res = await page.request.get(BASE + path);
    assert.equal(res.status(), 200, path);
    assert.match(res.headers()['content-type'], type, path);
    assert.match(await res.text(), /Välkommen till/, path);
  }
}));

test('the language switch works without JavaScript and is remembered', (t) => withPage(browser, t, async (page) => {
  await goto(page, `/groups/${GROUP}`);
  assert.equal(await page.getAttribute('html', 'lang'), 'sv');
  await Promise.all([page.waitForNavigation(), page.click('nav.langs a[hreflang=en]')]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(new URL(page.url()).pathname, `/groups/${GROUP}`, 'the switch stays on the page');
  assert.match(await page.textContent('#follow-h'), /Follow the group/);
  // A post keeps its own language inside the English page.
  assert.equal(await page.getAttribute('section[aria-labelledby=posts-h] article', 'lang'), 'sv');
  await goto(page, '/about');
  assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice holds on the next page');
  await Promise.all([page.waitForNavigation(), page.click('nav.langs a[hreflang=fi]')]);
  assert.equal(await page.getAttribute('html', 'lang'), 'fi');
  assert.match(await page.textContent('h1'), /Tietoa palvelusta/);
}, { javaScriptEnabled: false }));

test('the group page needs no JavaScript', (t) => withPage(browser, t, async (page) => {
  await goto(page, `/groups/${GROUP}`);
  assert.match(await page.textContent('h1'), /Hägersten-Älvsjö/);
  const posts = page.locator('section[aria-labelledby=posts-h] article');
  assert.ok(await posts.count() >= 1, 'posts are listed');
  assert.match(await posts.first().textContent(), /Välkommen till Hägersten-Älvsjö på torget!/);
  // The permalink opens without JavaScript too.
  await Promise.all([page.waitForNavigation(), posts.first().locator('.meta a').click()]);
  assert.match(new URL(page.url()).pathname, new RegExp(`^/groups/${GROUP}/posts/`));
  assert.match(await page.textContent('main'), /Välkommen till Hägersten-Älvsjö på torget!/);
}, { javaScriptEnabled: false }));

test('the accessibility feedback form works with the keyboard only and without signing in', (t) => withPage(browser, t, async (page) => {
  await goto(page, '/tillganglighet/feedback');
  await page.focus('#kind');
  await page.keyboard.press('Space');
  await page.focus('#text');
  await page.keyboard.type('Kartan på gruppsidan går inte att använda med skärmläsare.');
  await page.focus('form[action="/tillganglighet/feedback"] button[type=submit]');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/tillganglighet/feedback?sent=1');
  assert.ok(await page.locator('[role=status]').isVisible(), 'the receipt is shown');
  await axeCheck(page);
  // An empty submission shows the error, linked to the field.
  await page.fill('#text', '');
  await page.evaluate(() => document.querySelector('#text').removeAttribute('required'));
  await page.focus('form[action="/tillganglighet/feedback"] button[type=submit]');
  const [res] = await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.equal(res.status(), 422);
  assert.equal(await page.getAttribute('#text', 'aria-invalid'), 'true');
  await axeCheck(page);
}));

// Staff pages: axe-core on every page reachable after sign-in, sign-in and
// sign-out with the keyboard only, sign-in with a TOTP second factor, and
// composing a post with an image, alt text and a content warning.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, axeCheck, BASE, currentStep, focused, GROUP, goto, launch, pngImage, signIn, stockholm, tabTo, TOTP_USER, totp, withPage } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;

test('axe on /login', (t) => withPage(browser, t, async (page) => {
  await goto(page, '/login');
  await axeCheck(page);
}));

test('axe on /login after a failed sign-in', (t) => withPage(browser, t, async (page) => {
  // One failure only: sign-in failures count towards the lockout.
  await signIn(page, { username: 'nobody', password: 'wrong password' });
  assert.equal(path(page), '/login');
  assert.ok(await page.locator('#login-error[role=alert]').isVisible());
  await axeCheck(page);
}));

test('axe on /login in English', (t) => withPage(browser, t, async (page) => {
  await goto(page, '/login');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('h1'), /Sign in/);
  await axeCheck(page);
}, { locale: 'en-GB' }));

// The staff interface exists in Swedish and English.
describe('staff pages as administrator', () => {
  test('axe on a case page', (t) => withPage(browser, t, async (page) => {
    await signIn(page, ADMIN);
    await goto(page, '/staff/cases?status=all');
    const href = await page.getAttribute('table.cases a[href^="/staff/cases/"]', 'href');
    assert.ok(href, 'the demo has a case');
    await goto(page, href);
    await axeCheck(page);
    await goto(page, href + '?template=proposal&lang=fi');
    await axeCheck(page);
  }));

  for (const [lang, locale] of [['sv', 'sv-SE'], ['en', 'en-GB']]) {
    for (const p of ['/staff', '/staff/totp', '/staff/password', '/staff/language', '/staff/users', '/staff/audit',
      '/staff/record', '/staff/record?kind=post&direction=out',
      '/staff/groups/hagersten-alvsjo', '/staff/groups/hagersten-alvsjo/compose', '/staff/groups/hagersten-alvsjo/edit',
      '/staff/groups/new', '/staff/cases', '/staff/cases?status=all', '/staff/dashboard', '/staff/privacy/export',
      '/staff/privacy/erasure']) {
      test(`axe ${p} (${lang})`, (t) => withPage(browser, t, async (page) => {
        await signIn(page, ADMIN);
        assert.equal(path(page), '/staff');
        await goto(page, p);
        assert.equal(await page.getAttribute('html', 'lang'), lang);
        await axeCheck(page);
      }, { locale }));
    }
  }
});

test('sign in and out with the keyboard only', (t) => withPage(browser, t, async (page) => {
  await goto(page, '/login');
  // The skip link comes first and moves the focus to the main content.
  await page.keyboard.press('Tab');
  let f = await focused(page);
  assert.equal(f.cls, 'skip', `first focusable element is the skip link, got ${JSON.stringify(f)}`);
  assert.equal(f.href, '#main');
  assert.ok(f.visible, 'the skip link is on screen when focused');
  await page.keyboard.press('Enter');
  f = await focused(page);
  assert.equal(f.id, 'main', `the skip link moves focus to main, got ${JSON.stringify(f)}`);
  // From main, the next stop is the username field.
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).id, 'username');
  await page.keyboard.type(ADMIN.username);
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).id, 'password');
  await page.keyboard.type(ADMIN.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/staff'), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('h1'), /Grupper/); // the context's locale is sv-SE

  // On /staff: skip link first, then the menus in document order, to the
  // sign-out button.
  const order = await tabTo(page, (x) => x.tag === 'button' && x.form === '/logout');
  assert.equal(order[0].cls, 'skip', `focus order starts with the skip link: ${JSON.stringify(order[0])}`);
  const hrefs = order.map((x) => x.href).filter(Boolean);
  for (const h of ['/staff', '/staff/totp', '/staff/password', '/staff/users', '/staff/audit']) {
    assert.ok(hrefs.includes(h), `the staff menu link ${h} is reached before sign-out; order: ${hrefs.join(' ')}`);
  }
  await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.keyboard.press('Enter')]);
  await goto(page, '/staff');
  assert.equal(path(page), '/login', 'signed out: /staff sends to the sign-in page');
}));

test('sign in with a TOTP second factor', (t) => withPage(browser, t, async (page) => {
  await signIn(page, TOTP_USER);
  assert.equal(path(page), '/staff');

  // Enrol: create a key, read it from the page, confirm with a code.
  await goto(page, '/staff/totp');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/staff/totp/new"] button')]);
  assert.equal(path(page), '/staff/totp');
  const secret = (await page.textContent('code.secret')).trim();
  assert.match(secret, /^[A-Z2-7]{16,}$/, 'the key is shown in base32');
  await axeCheck(page);
  const step = currentStep();
  await page.fill('#code', totp(secret, step));
  await Promise.all([page.waitForNavigation(), page.click('form[action="/staff/totp/confirm"] button')]);
  assert.equal(path(page), '/staff', 'confirmed: back on /staff');
  await goto(page, '/staff/totp');
  assert.match(await page.textContent('main'), /Tvåstegsverifiering är på/); // the context's locale is sv-SE
  await axeCheck(page);

  // Sign out, then in again: the password alone is not enough.
  await Promise.all([page.waitForNavigation(), page.click('form[action="/logout"] button')]);
  await signIn(page, TOTP_USER);
  assert.equal(path(page), '/login/totp');
  await goto(page, '/staff');
  assert.equal(path(page), '/login/totp', '/staff waits for the code');
  await axeCheck(page);

  // A wrong code is refused with a message.
  const valid = new Set([-1, 0, 1, 2].map((d) => totp(secret, step + d)));
  let wrong = 0;
  while (valid.has(String(wrong).padStart(6, '0'))) wrong++;
  await page.fill('#code', String(wrong).padStart(6, '0'));
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login/totp"] button')]);
  assert.equal(path(page), '/login/totp');
  assert.ok(await page.locator('#code-error[role=alert]').isVisible(), 'a wrong code is refused');
  await axeCheck(page);

  // The code of the next step: the confirm step's code is used up, and the
  // server accepts one step either side of now.
  await page.fill('#code', totp(secret, step + 1));
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login/totp"] button')]);
  assert.equal(path(page), '/staff', 'signed in with the second factor');
  assert.match(await page.textContent('form[action="/logout"]'), new RegExp(TOTP_USER.username));
}));

test('compose a post with an image, alt text and content warning', (t) => withPage(browser, t, async (page) => {
  const alt = `Karta över Hägersten med omledd busstrafik ${Date.now()}`;
  await signIn(page, ADMIN);
  await goto(page, '/staff/groups/hagersten-alvsjo/compose');
  await page.fill('#text', 'Bussarna leds om i helgen, se kartan.');
  await page.fill('#summary', 'Trafikstörning');
  await page.setInputFiles('#file-1', { name: 'karta.png', mimeType: 'image/png', buffer: pngImage(48, 32) });

  // Without alt text: refused, the message in the form, the image kept.
  await Promise.all([page.waitForNavigation(), page.click('button[value=publish]')]);
  const alert = page.locator('[role=alert]');
  assert.match(await alert.innerText(), /Skriv en bildbeskrivning/);
  const altField = page.locator('textarea[id^="alt-"]:not([id^="alt-new"])');
  assert.equal(await altField.count(), 1, 'the uploaded image is carried in the form');
  assert.equal(await altField.getAttribute('aria-invalid'), 'true');
  await axeCheck(page);

  // With alt text: preview, then publish.
  await altField.fill(alt);
  await Promise.all([page.waitForNavigation(), page.click('button[value=preview]')]);
  assert.equal(await page.locator(`.preview img[alt="${alt}"]`).count(), 1);
  await Promise.all([page.waitForNavigation(), page.click('button[value=publish]')]);
  assert.equal(path(page), '/staff/groups/hagersten-alvsjo');

  // The public page shows it behind the content warning, with its alt text.
  await goto(page, '/groups/hagersten-alvsjo');
  const article = page.locator('article', { has: page.locator(`img[alt="${alt}"]`) }).first();
  await article.locator('summary', { hasText: 'Trafikstörning' }).click();
  const img = article.locator(`img[alt="${alt}"]`);
  assert.ok(await img.isVisible());
  assert.equal(await img.getAttribute('width'), '48');
  assert.equal(await img.getAttribute('loading'), 'lazy');
  assert.ok(await img.evaluate((e) => e.complete && e.naturalWidth === 48), 'the image loads from /media');
  await axeCheck(page);
}));

test('schedule a post and see it published at its time', (t) => withPage(browser, t, async (page) => {
  await signIn(page, ADMIN);
  const text = `Schemalagt från webbläsaren ${Date.now()}`;
  await goto(page, `/staff/groups/${GROUP}/compose`);
  await page.fill('#text', text);

  // A time in the past is refused with a message, and the text is kept.
  const past = stockholm(new Date(Date.now() - 60_000));
  await page.fill('#date', past.date);
  await page.fill('#time', past.time);
  await Promise.all([page.waitForNavigation(), page.click('button[value=schedule]')]);
  assert.ok(await page.locator('#when-error').isVisible(), 'a past time is refused');
  assert.equal(await page.inputValue('#text'), text, 'the text is kept');
  await axeCheck(page);

  // Eight seconds ahead: listed for staff, invisible to the public.
  const when = stockholm(new Date(Date.now() + 8_000));
  await page.fill('#date', when.date);
  await page.fill('#time', when.time);
  await Promise.all([page.waitForNavigation(), page.click('button[value=schedule]')]);
  assert.equal(path(page), `/staff/groups/${GROUP}`);
  const drafts = await page.textContent('section[aria-labelledby=drafts-h]');
  assert.ok(drafts.includes(text) && drafts.includes('Schemalagt'), `the staff page lists the scheduled post: ${drafts}`);
  await axeCheck(page);
  const pub = await (await fetch(`${BASE}/groups/${GROUP}`)).text();
  assert.ok(!pub.includes(text), 'not public before its time');

  // Published by the scheduler: the public page shows it within seconds.
  const deadline = Date.now() + 30_000;
  for (;;) {
    await goto(page, `/groups/${GROUP}`);
    if ((await page.textContent('main')).includes(text)) break;
    assert.ok(Date.now() < deadline, 'the scheduled post did not appear within 30 s');
    await page.waitForTimeout(1000);
  }
  await goto(page, `/staff/groups/${GROUP}`);
  assert.ok(!(await page.textContent('section[aria-labelledby=drafts-h]')).includes(text), 'no longer listed as scheduled');
}));

test('error pages are pages: 404 and a stale form', (t) => withPage(browser, t, async (page) => {
  await goto(page, '/groups/finns-inte', 404);
  assert.match(await page.textContent('h1'), /Sidan finns inte/);
  await axeCheck(page);
  await signIn(page, ADMIN);
  await goto(page, `/staff/groups/${GROUP}/compose`);
  await page.fill('#text', 'Gammalt formulär');
  // The form's token goes stale (as after signing in again elsewhere).
  await page.evaluate(() => { for (const i of document.querySelectorAll('input[name=csrf]')) i.value = 'stale'; });
  const [res] = await Promise.all([page.waitForNavigation(), page.click('button[value=publish]')]);
  assert.equal(res.status(), 403);
  assert.match(await page.textContent('h1'), /Formuläret kunde inte skickas/);
  assert.ok(await page.locator('a', { hasText: 'Tillbaka till föregående sida' }).isVisible());
  await axeCheck(page);
}));

// The whole staff flow in the browser, twice: once with the mouse and once
// with the keyboard only. Sign in as administrator, create a group through
// /staff/groups/new, compose a post in it with an image, alt text and a
// content warning, schedule it a few seconds ahead, see it published on the
// public group page, edit it, pin it and delete it through the
// confirmation page, after which its permalink answers 410.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, axeCheck, focused, goto, launch, pngImage, signIn, stockholm, tabTo, withPage } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;
// Reduced motion: the site scrolls smoothly otherwise, and a field focused
// below the fold would still be scrolling into view when checked.
const EN = { locale: 'en-GB', reducedMotion: 'reduce' };

// waitPublished reloads the public group page until text shows (the
// scheduler polls every second), failing after 30 s.
async function waitPublished(page, slug, text) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await goto(page, `/groups/${slug}`);
    if ((await page.textContent('main')).includes(text)) return;
    assert.ok(Date.now() < deadline, `the scheduled post did not appear on /groups/${slug} within 30 s`);
    await page.waitForTimeout(500);
  }
}

// checkPublic checks the public group page: the post's article holds the
// image behind the content warning, with its alt text, and the image loads.
// openCW opens the warning (by mouse or keyboard); it returns the permalink.
async function checkPublic(page, { text, cw, alt }, openCW) {
  const article = page.locator('article', { hasText: cw }).first();
  const img = article.locator(`img[alt="${alt}"]`);
  assert.equal(await img.count(), 1, 'the image is in the post, with its alt text');
  assert.ok(!(await img.isVisible()), 'the image is hidden behind the content warning');
  await openCW(article.locator('summary', { hasText: cw }));
  await article.locator('details[open]').waitFor();
  await img.waitFor({ state: 'visible', timeout: 5000 }); // fails: the warning did not open
  assert.ok(await img.evaluate((e) => e.complete && e.naturalWidth === 40), 'the image loads');
  assert.match(await article.innerText(), new RegExp(text));
  await axeCheck(page);
  return new URL(await article.locator('.meta a').first().getAttribute('href'), page.url()).pathname;
}

// checkEdited checks that the public page shows the new text, marked edited.
async function checkEdited(page, slug, oldText, newText) {
  await goto(page, `/groups/${slug}`);
  const main = await page.textContent('main');
  assert.ok(main.includes(newText) && !main.includes(oldText), 'the public page shows the edited text only');
  const article = page.locator('article', { hasText: newText }).first();
  assert.match(await article.locator('.meta').innerText(), /\(edited\)/, 'the post is marked edited');
}

// checkPinned checks the public page's pinned section holds the post.
async function checkPinned(page, slug, text) {
  await goto(page, `/groups/${slug}`);
  const pinned = page.locator('section[aria-labelledby=pinned-h]');
  assert.equal(await pinned.count(), 1, 'the public page has a pinned section');
  assert.ok((await pinned.textContent()).includes(text), 'the pinned section holds the post (behind its content warning)');
  await axeCheck(page);
}

// checkGone checks that the deleted post's permalink answers 410 with the
// gone page and that the group page no longer shows it.
async function checkGone(page, slug, permalink, text) {
  await goto(page, permalink, 410);
  assert.match(await page.textContent('h1'), /The post has been deleted/);
  await axeCheck(page);
  await goto(page, `/groups/${slug}`);
  assert.ok(!(await page.textContent('main')).includes(text), 'the deleted post is gone from the group page');
}

function names(tag) {
  const n = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  return {
    slug: `${tag}-${n}`, name: `Flödestest ${tag} ${n}`, purpose: 'Att pröva hela flödet i webbläsaren.', unit: 'Testförvaltningen',
    text: `Inlägg från ${tag} ${n}`, edited: `Rättat inlägg från ${tag} ${n}`, cw: `Varning ${tag} ${n}`, alt: `Karta, ${tag} ${n}`,
  };
}

test('the whole staff flow with the mouse', (t) => withPage(browser, t, async (page) => {
  const v = names('mus');
  await signIn(page, ADMIN);
  assert.equal(path(page), '/staff');

  // A new group, with every required field.
  await Promise.all([page.waitForURL((u) => u.pathname === '/staff/groups/new'), page.click('a[href="/staff/groups/new"]')]);
  await page.fill('#slug', v.slug);
  await page.fill('#name', v.name);
  await page.fill('#purpose', v.purpose);
  await page.fill('#language', 'sv');
  await page.fill('#owning_unit', v.unit);
  await page.check('input[name=responsible][value=admin]');
  await Promise.all([page.waitForURL((u) => u.pathname === `/staff/groups/${v.slug}`), page.click('form[action="/staff/groups/new"] button[type=submit]')]);
  assert.equal(await page.textContent('h1'), v.name);
  assert.match(await page.locator('[role=status]').innerText(), new RegExp(v.name), 'a notice says it was created');
  await goto(page, `/groups/${v.slug}`); // public at once
  await goto(page, `/staff/groups/${v.slug}`);

  // Compose with an image, alt text and a content warning; schedule it.
  await Promise.all([page.waitForURL((u) => u.pathname === `/staff/groups/${v.slug}/compose`), page.click(`a[href="/staff/groups/${v.slug}/compose"]`)]);
  await page.fill('#text', v.text);
  await page.fill('#summary', v.cw);
  await page.setInputFiles('#file-1', { name: 'karta.png', mimeType: 'image/png', buffer: pngImage(40, 30) });
  await page.fill('#alt-new-1', v.alt);
  const when = stockholm(new Date(Date.now() + 6_000));
  await page.fill('#date', when.date);
  await page.fill('#time', when.time);
  await Promise.all([page.waitForURL((u) => u.pathname === `/staff/groups/${v.slug}`), page.click('button[value=schedule]')]);
  assert.match(await page.textContent('section[aria-labelledby=drafts-h]'), new RegExp(v.text), 'listed as scheduled');

  // Published by the scheduler.
  await waitPublished(page, v.slug, v.text);
  const permalink = await checkPublic(page, v, (summary) => summary.click());

  // Edit.
  await goto(page, `/staff/groups/${v.slug}`);
  await Promise.all([page.waitForURL((u) => /^\/staff\/posts\/[^/]+\/edit$/.test(u.pathname)), page.click('a[href^="/staff/posts/"][href$="/edit"]')]);
  assert.equal(await page.inputValue('textarea[id^="alt-"]:not([id^="alt-new"])'), v.alt, 'the edit form keeps the image and its alt text');
  await page.fill('#text', v.edited);
  await Promise.all([page.waitForURL((u) => u.pathname === `/staff/groups/${v.slug}`), page.click('button[value=publish]')]);
  await checkEdited(page, v.slug, v.text, v.edited);

  // Pin.
  await goto(page, `/staff/groups/${v.slug}`);
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/pin"] button')]);
  assert.equal(await page.locator('form[action$="/unpin"]').count(), 1, 'the staff page offers to unpin');
  await checkPinned(page, v.slug, v.edited);

  // Delete through the confirmation page.
  await goto(page, `/staff/groups/${v.slug}`);
  await Promise.all([page.waitForURL((u) => /\/delete$/.test(u.pathname)), page.click('a[href^="/staff/posts/"][href$="/delete"]')]);
  assert.match(await page.textContent('main'), new RegExp(v.edited), 'the confirmation page shows the post');
  await axeCheck(page);
  await Promise.all([page.waitForURL((u) => u.pathname === `/staff/groups/${v.slug}`), page.click('form[action$="/delete"] button[type=submit]')]);
  await checkGone(page, v.slug, permalink, v.edited);
}, EN));

// ring asserts that the focused element shows a focus ring.
async function ring(page, what) {
  const f = await focused(page);
  assert.notEqual(f.outline, 'none', `${what}: the focused element shows a focus ring: ${JSON.stringify(f)}`);
  return f;
}

// typeInto replaces the focused field's text by typing.
async function typeInto(page, text) {
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
}

// follow presses Enter on the focused link or button and waits for pred.
async function enterTo(page, pred, key = 'Enter') {
  await Promise.all([page.waitForURL(pred), page.keyboard.press(key)]);
  await page.waitForLoadState();
}

// dateTimeKeys finds out, on a scratch page, in which order this Chromium
// shows the parts of a date input (its own UI language decides, not the
// page's locale) and whether its time input has AM/PM, and returns what to
// type for a date (YYYY-MM-DD) and a time (HH:MM:SS).
async function dateTimeKeys(context) {
  const p = await context.newPage();
  try {
    await p.setContent('<input type="date" id="d" aria-label="d"><input type="time" step="1" id="t" aria-label="t">');
    await p.keyboard.press('Tab');
    await p.keyboard.type('01022030');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Tab');
    if (await p.evaluate(() => document.activeElement.id) !== 't') await p.keyboard.press('Tab');
    await p.keyboard.type('010405P');
    const [d, t] = await p.evaluate(() => [document.querySelector('#d').value, document.querySelector('#t').value]);
    const order = { '2030-01-02': 'mdy', '2030-02-01': 'dmy' }[d];
    assert.ok(order, `unknown date input order: typed 01022030, got ${d}`);
    assert.ok(['01:04:05', '13:04:05'].includes(t), `unknown time input: typed 010405P, got ${t}`);
    const h12 = t === '13:04:05';
    return {
      date: (iso) => { const [y, m, dd] = iso.split('-'); return order === 'mdy' ? `${m}${dd}${y}` : `${dd}${m}${y}`; },
      time: (hms) => {
        const [h, m, sec] = hms.split(':');
        if (!h12) return `${h}${m}${sec}`;
        return `${String((Number(h) + 11) % 12 + 1).padStart(2, '0')}${m}${sec}${Number(h) < 12 ? 'A' : 'P'}`;
      },
    };
  } finally {
    await p.close();
  }
}

test('the whole staff flow with the keyboard only', (t) => withPage(browser, t, async (page) => {
  const v = names('tangent');

  // Sign in.
  await goto(page, '/login');
  await tabTo(page, (f) => f.id === 'username');
  await ring(page, 'username');
  await page.keyboard.type(ADMIN.username);
  await page.keyboard.press('Tab');
  assert.equal((await ring(page, 'password')).id, 'password');
  await page.keyboard.type(ADMIN.password);
  await enterTo(page, (u) => u.pathname === '/staff');

  // New group: every field in order, with Tab.
  await tabTo(page, (f) => f.href === '/staff/groups/new');
  await ring(page, 'new group link');
  await enterTo(page, (u) => u.pathname === '/staff/groups/new');
  await tabTo(page, (f) => f.id === 'slug');
  await ring(page, 'slug');
  await page.keyboard.type(v.slug);
  for (const [id, value] of [['name', v.name], ['purpose', v.purpose], ['summary', null], ['website', null], ['language', 'sv'], ['owning_unit', v.unit]]) {
    await page.keyboard.press('Tab');
    assert.equal((await ring(page, id)).id, id, `Tab moves to #${id}`);
    if (value !== null) await typeInto(page, value);
  }
  const box = await tabTo(page, (f) => f.type === 'checkbox' && f.value === 'admin');
  assert.equal(box.at(-1).checked, false);
  await ring(page, 'responsible checkbox');
  await page.keyboard.press('Space');
  assert.equal((await focused(page)).checked, true, 'Space checks the responsible box');
  await tabTo(page, (f) => f.tag === 'button' && f.form === '/staff/groups/new');
  await ring(page, 'create button');
  await enterTo(page, (u) => u.pathname === `/staff/groups/${v.slug}`);
  assert.equal(await page.textContent('h1'), v.name);

  // Compose with an image, alt text and a content warning; schedule it.
  await tabTo(page, (f) => f.href === `/staff/groups/${v.slug}/compose`);
  await enterTo(page, (u) => u.pathname === `/staff/groups/${v.slug}/compose`);
  await tabTo(page, (f) => f.id === 'text');
  await ring(page, 'text');
  await page.keyboard.type(v.text);
  await page.keyboard.press('Tab');
  assert.equal((await ring(page, 'summary')).id, 'summary');
  await page.keyboard.type(v.cw);
  await tabTo(page, (f) => f.id === 'file-1');
  await ring(page, 'file input');
  // The file chooser opens from the keyboard; only choosing the file is
  // done through playwright, as headless Chromium has no dialog.
  const chooserShown = page.waitForEvent('filechooser');
  await page.evaluate(() => 0); // the interception of the chooser is on
  await page.keyboard.press('Space');
  const chooser = await chooserShown;
  await chooser.setFiles({ name: 'karta.png', mimeType: 'image/png', buffer: pngImage(40, 30) });
  assert.equal(await page.evaluate(() => document.querySelector('#file-1').files.length), 1, 'the image is chosen');
  await page.keyboard.press('Tab');
  assert.equal((await ring(page, 'alt text')).id, 'alt-new-1', 'the alt text field follows its image');
  await page.keyboard.type(v.alt);
  const keys = await dateTimeKeys(page.context());
  const when = stockholm(new Date(Date.now() + 10_000));
  await tabTo(page, (f) => f.id === 'date');
  await ring(page, 'date');
  await page.keyboard.type(keys.date(when.date));
  assert.equal(await page.evaluate(() => document.querySelector('#date').value), when.date, 'the date typed in');
  // Tab may stop at the date's calendar button before it leaves the input.
  await tabTo(page, (f) => f.id === 'time', 3);
  await ring(page, 'time');
  await page.keyboard.type(keys.time(when.time));
  assert.deepEqual(await page.evaluate(() => [document.querySelector('#date').value, document.querySelector('#time').value]),
    [when.date, when.time], 'the date and time typed in');
  await tabTo(page, (f) => f.tag === 'button' && f.value === 'schedule');
  await ring(page, 'schedule button');
  await enterTo(page, (u) => u.pathname === `/staff/groups/${v.slug}`);
  assert.match(await page.textContent('section[aria-labelledby=drafts-h]'), new RegExp(v.text), 'listed as scheduled');

  // Published: open the content warning with the keyboard.
  await waitPublished(page, v.slug, v.text);
  const permalink = await checkPublic(page, v, async () => {
    await tabTo(page, (f) => f.tag === 'summary' && f.text.includes(v.cw), 80);
    await ring(page, 'content warning');
    await page.keyboard.press('Enter');
  });

  // Edit.
  await goto(page, `/staff/groups/${v.slug}`);
  await tabTo(page, (f) => /^\/staff\/posts\/[^/]+\/edit$/.test(f.href || ''), 80);
  await ring(page, 'edit link');
  await enterTo(page, (u) => /^\/staff\/posts\/[^/]+\/edit$/.test(u.pathname));
  await tabTo(page, (f) => f.id === 'text');
  await typeInto(page, v.edited);
  await tabTo(page, (f) => f.tag === 'button' && f.value === 'publish');
  await ring(page, 'save button');
  await enterTo(page, (u) => u.pathname === `/staff/groups/${v.slug}`);
  await checkEdited(page, v.slug, v.text, v.edited);

  // Pin, with Space on the button.
  await goto(page, `/staff/groups/${v.slug}`);
  await tabTo(page, (f) => f.tag === 'button' && /\/pin$/.test(f.form || ''), 80);
  await ring(page, 'pin button');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Space')]);
  assert.equal(await page.locator('form[action$="/unpin"]').count(), 1, 'pinned: the staff page offers to unpin');
  await checkPinned(page, v.slug, v.edited);

  // Delete through the confirmation page.
  await goto(page, `/staff/groups/${v.slug}`);
  await tabTo(page, (f) => /^\/staff\/posts\/[^/]+\/delete$/.test(f.href || ''), 80);
  await enterTo(page, (u) => /\/delete$/.test(u.pathname));
  // The skip link jumps past the menus, straight to the confirmation.
  await page.keyboard.press('Tab');
  assert.equal((await ring(page, 'skip link')).href, '#main');
  await page.keyboard.press('Enter');
  assert.equal((await focused(page)).id, 'main');
  const confirm = await tabTo(page, (f) => f.tag === 'button' && /\/delete$/.test(f.form || ''));
  assert.ok(confirm.length <= 5 && !confirm.some((f) => f.form === '/logout' || ['/staff/totp', '/staff/password', '/staff/users'].includes(f.href)),
    `from main, the delete button comes at once, not after the menus: ${JSON.stringify(confirm)}`);
  await ring(page, 'delete button');
  await enterTo(page, (u) => u.pathname === `/staff/groups/${v.slug}`);
  await checkGone(page, v.slug, permalink, v.edited);
}, EN));

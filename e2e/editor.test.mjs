// The editor boundary, checked by the server: an editor assigned to one
// group (run.sh makes e2e-editor the responsible editor of e2e-redaktion)
// cannot open, post to, edit, pin or delete in another group, even with a
// valid CSRF token of their own session, and gets the friendly 403 page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { axeCheck, BASE, EDITOR, GROUP, goto, launch, signIn, withPage } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;

// forbidden checks that the page is the friendly 403 page.
async function forbidden(page, what) {
  assert.match(await page.textContent('h1'), /You are not allowed to do this/, `${what}: the 403 page`);
  assert.ok(await page.locator('a', { hasText: 'To the staff home page' }).count() + await page.locator('a', { hasText: 'Back to the previous page' }).count() > 0,
    `${what}: the 403 page offers a way on`);
}

test('an editor cannot touch a group they are not assigned to', (t) => withPage(browser, t, async (page) => {
  // A post of the other group, the demo group: the welcome post.
  const pub = await (await fetch(`${BASE}/groups/${GROUP}`)).text();
  const m = new RegExp(`/groups/${GROUP}/posts/([A-Za-z0-9_-]+)`).exec(pub);
  assert.ok(m, 'the demo group has a post');
  const postID = m[1], permalink = `/groups/${GROUP}/posts/${postID}`;

  await signIn(page, EDITOR);
  assert.equal(path(page), '/staff');
  // The editor's own group works: the boundary is not a blanket refusal.
  await goto(page, `/staff/groups/${EDITOR.group}/compose`);
  assert.equal(await page.locator('#text').count(), 1, 'the editor composes in their own group');

  // GET: the other group's pages and the edit/delete pages of its post.
  for (const p of [`/staff/groups/${GROUP}`, `/staff/groups/${GROUP}/compose`, `/staff/posts/${postID}/edit`,
    `/staff/posts/${postID}/delete`, `/staff/groups/${GROUP}/edit`]) {
    await goto(page, p, 403);
    await forbidden(page, p);
  }
  await axeCheck(page);

  // POST with the editor's valid token: the own group's compose form, sent
  // to the other group by changing its action in the page.
  const text = `Får inte publiceras ${Date.now()}`;
  await goto(page, `/staff/groups/${EDITOR.group}/compose`);
  await page.fill('#text', text);
  await page.evaluate((action) => { document.querySelector('#text').form.setAttribute('action', action); }, `/staff/groups/${GROUP}/compose`);
  const [res] = await Promise.all([page.waitForNavigation(), page.click('button[value=publish]')]);
  assert.equal(res.status(), 403, 'publishing into the other group is refused');
  await forbidden(page, 'POST compose');
  await axeCheck(page);

  // Pin, unpin, edit and delete of the other group's post, with the token.
  await goto(page, `/staff/groups/${EDITOR.group}/compose`);
  const csrf = await page.inputValue('input[name=csrf]');
  const origin = new URL(BASE).origin;
  for (const [p, form] of [[`/staff/posts/${postID}/pin`, {}], [`/staff/posts/${postID}/unpin`, {}],
    [`/staff/posts/${postID}/edit`, { text: 'Kapat', language: 'sv', action: 'publish' }], [`/staff/posts/${postID}/delete`, {}]]) {
    // Accept as a browser sends it: the server answers a person with a page.
    const r = await page.request.post(BASE + p, { form: { csrf, ...form }, headers: { Origin: origin, Accept: 'text/html', 'Accept-Language': 'en-GB' }, maxRedirects: 0 });
    assert.equal(r.status(), 403, `POST ${p}: ${r.status()}`);
    assert.match(await r.text(), /You are not allowed to do this/, `POST ${p}: the friendly page`);
  }
  // The token was good: the same request to the own group goes through.
  const own = await page.request.post(`${BASE}/staff/groups/${EDITOR.group}/compose`,
    { form: { csrf, text: `Eget inlägg ${Date.now()}`, language: 'sv', action: 'publish' }, headers: { Origin: origin }, maxRedirects: 0 });
  assert.equal(own.status(), 303, `the editor's token works in their own group (${own.status()})`);

  // Nothing happened in the other group.
  const after = await (await fetch(`${BASE}/groups/${GROUP}`)).text();
  assert.ok(!after.includes(text), 'nothing was published in the other group');
  assert.ok(!after.includes('Kapat'), 'the post was not edited');
  const still = await fetch(`${BASE}${permalink}`);
  assert.equal(still.status, 200, 'the post was not deleted');
}, { locale: 'en-GB' }));

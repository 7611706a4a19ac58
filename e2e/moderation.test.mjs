// Moderation: replies from a fediverse peer (e2e/fakeremote, real signed
// activities) are held by a rule proposed in the UI and approved by a
// second administrator (GOV-3); a moderator approves,
// hides and removes them from the queue with the keyboard only; the public
// moderation log shows each decision with its rule; axe-core on every new
// page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, ADMIN2, axeCheck, BASE, GROUP, goto, launch, signIn, withPage } from './lib.mjs';

const REMOTE = process.env.TORGET_E2E_REMOTE;
if (!REMOTE) throw new Error('TORGET_E2E_REMOTE is not set: run the browser tests with bash e2e/run.sh');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const groupIRI = `${BASE}/groups/${GROUP}`;

async function send(user, text) {
  const q = new URLSearchParams({ group: groupIRI, user, text });
  const res = await fetch(`${REMOTE}/send?${q}`);
  const body = await res.json();
  assert.equal(body.status, 202, `peer send: ${JSON.stringify(body)}`);
  return body.id;
}

test('public moderation pages pass axe', (t) => withPage(browser, t, async (page) => {
  for (const p of ['/about/rules', '/about/federation', '/moderation', `/groups/${GROUP}/moderation`, '/report']) {
    await goto(page, p);
    await axeCheck(page);
  }
}));

test('a moderator approves, hides and removes from the queue with the keyboard', (t) => withPage(browser, t, async (page) => {
  await signIn(page, ADMIN);
  // A published rule: the first post of an unknown author waits for review.
  await goto(page, '/staff/moderation/rules');
  await axeCheck(page);
  await page.fill('#r-id', 'forsta-inlagg');
  await page.fill('#r-text', 'Första inlägget från en ny avsändare granskas innan det visas.');
  await page.selectOption('#r-kind', 'first_post');
  await page.selectOption('#r-action', 'hold');
  await page.selectOption('#r-ground', 'villkor-spam');
  await page.fill('#r-justification', 'Nya avsändare skickar ofta reklam; villkoren förbjuder reklam och massutskick.');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/staff/moderation/rules"] button[type=submit]')]);
  assert.match(await page.locator('.notice').innerText(), /annan administratör/);
  const proposal = page.locator('.proposals li', { hasText: 'forsta-inlagg' });
  assert.equal(await proposal.locator('button', { hasText: 'Godkänn' }).count(), 0, 'the proposer is offered no approval');
  await axeCheck(page);
  // A second administrator approves it, by keyboard.
  await withPage(browser, t, async (p2) => {
    await signIn(p2, ADMIN2);
    await goto(p2, '/staff/moderation/rules');
    const approve = p2.locator('.proposals li', { hasText: 'forsta-inlagg' }).locator('button', { hasText: 'Godkänn forsta-inlagg' });
    await approve.focus();
    await Promise.all([p2.waitForNavigation(), p2.keyboard.press('Enter')]);
    assert.match(await p2.locator('.notice').innerText(), /gäller nu/);
    assert.ok((await p2.locator('table').innerText()).includes('forsta-inlagg'), 'rule in force after approval');
  });

  const texts = { approve: 'Hej, när öppnar biblioteket?', hide: 'Köp billiga klockor här', remove: 'Något som ska bort' };
  await send('cecilia', texts.approve);
  await send('david', texts.hide);
  await send('eva', texts.remove);

  // The inbox worker applies them within moments.
  let count = 0;
  for (let i = 0; i < 100 && count < 3; i++) {
    await goto(page, '/staff/moderation');
    count = await page.locator('.qitem').count();
    if (count < 3) await page.waitForTimeout(200);
  }
  assert.equal(count, 3, 'three held replies in the queue');
  assert.ok((await page.content()).includes('första inlägget från en okänd avsändare'), 'the queue says why each was held');
  await axeCheck(page);

  const itemText = (i) => page.locator('.qitem').nth(i).locator('.content').innerText();
  const focusedItem = () => page.evaluate(() => document.activeElement?.closest('.qitem')?.querySelector('.content')?.innerText ?? '');

  // Approve: j focuses the first item, a approves it.
  await page.keyboard.press('j');
  assert.ok((await focusedItem()).includes(texts.approve), `focused ${await focusedItem()}`);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('a')]);
  assert.match(await page.locator('.notice').innerText(), /godkänt/);
  assert.equal(await page.locator('.qitem').count(), 2);

  // Hide: h asks for the reason, Enter sends.
  await page.keyboard.press('j');
  assert.ok((await focusedItem()).includes(texts.hide));
  await page.keyboard.press('h');
  await page.keyboard.type('Reklam');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(await page.locator('.notice').innerText(), /döljs/);
  assert.equal(await page.locator('.qitem').count(), 1);
  assert.ok((await itemText(0)).includes(texts.remove));

  // Remove.
  await page.keyboard.press('j');
  await page.keyboard.press('r');
  await page.keyboard.type('Bryter mot reglerna');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(await page.locator('.notice').innerText(), /borttaget/);
  assert.equal(await page.locator('.qitem').count(), 0);

  // The public log lists the hide and the removal with their rule, never the text.
  await goto(page, '/moderation');
  const rows = page.locator('tbody tr');
  assert.ok(await rows.count() >= 2);
  const log = await page.locator('table').innerText();
  assert.match(log, /forsta-inlagg/);
  assert.match(log, /borttaget/);
  assert.ok(!log.includes(texts.remove) && !log.includes(texts.hide), 'removed text is never republished');
  await axeCheck(page);
  await goto(page, `/groups/${GROUP}/moderation`);
  assert.match(await page.locator('table').innerText(), /forsta-inlagg/);
}));

test('an administrator registers and decides an erasure request; the pages pass axe', (t) => withPage(browser, t, async (page) => {
  const id = await send('filip', 'Filips svar som ska bort från allmän visning');
  const actor = id.replace(/\/objects\/.*$/, '/users/filip');
  await signIn(page, ADMIN);
  await goto(page, '/staff/privacy/erasure');
  await axeCheck(page);
  await page.fill('#account', actor);
  await page.fill('#text', 'Jag vill att mina svar tas bort.');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/staff/privacy/erasure"] button[type=submit]')]);
  assert.match(new URL(page.url()).pathname, /^\/staff\/privacy\/erasure\/\d+$/);
  assert.ok((await page.content()).includes('role="status"'), 'registered notice');
  await axeCheck(page);
  await page.check('#action-remove');
  await page.selectOption('#ground', 'gdpr-17-1');
  await page.fill('#reasons', 'Svaren behöver inte visas offentligt.');
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/decide"] button[type=submit]')]);
  const html = await page.content();
  assert.ok(html.includes('GDPR art. 17.1') && html.includes('arkivlagen'), 'the answer names the legal grounds');
  await axeCheck(page);
}));

// Single sign-on in the browser: /login links to the test OpenID Connect
// provider (e2e/oidc-provider.mjs, started by run.sh over https), which
// sends the browser back with a code; torget exchanges it, verifies the
// RS256 ID token and maps its preferred_username claim to a staff account.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { axeCheck, goto, launch, OIDC_USER, withPage } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;

// viaProvider clicks the single sign-on link on /login and answers the
// provider's form with username; it returns torget's response to the
// provider's redirect back (the callback).
async function viaProvider(page, username) {
  await goto(page, '/login');
  await axeCheck(page);
  const link = page.getByRole('link', { name: 'Sign in with your organisation account' });
  assert.equal(await link.getAttribute('href'), '/login/oidc');
  await Promise.all([page.waitForURL((u) => u.protocol === 'https:' && u.pathname === '/authorize'), link.click()]);
  assert.equal(new URL(page.url()).hostname, '127.0.0.1', 'sent to the provider');
  await axeCheck(page);
  await page.fill('#username', username);
  const [res] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/login/oidc/callback' && r.request().isNavigationRequest()),
    page.click('button[type=submit]'),
  ]);
  await page.waitForLoadState();
  return res;
}

test('sign in through the OIDC provider as a mapped account', (t) => withPage(browser, t, async (page) => {
  const res = await viaProvider(page, OIDC_USER);
  assert.equal(res.status(), 303, 'the callback redirects');
  await page.waitForURL((u) => u.pathname === '/staff');
  assert.match(await page.textContent('form[action="/logout"]'), new RegExp(OIDC_USER), 'signed in as the mapped account');
  assert.match(await page.textContent('h1'), /Groups/);
  await axeCheck(page);
  // A real session: another staff page opens, and signing out ends it.
  await goto(page, '/staff/password');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/logout"] button')]);
  await goto(page, '/staff');
  assert.equal(path(page), '/login');
}, { ignoreHTTPSErrors: true, locale: 'en-GB' }));

test('an unmapped OIDC subject is refused with a message', (t) => withPage(browser, t, async (page) => {
  const res = await viaProvider(page, 'no-such-staff-member');
  assert.equal(res.status(), 403);
  assert.equal(path(page), '/login/oidc/callback', 'the refusal is shown on the callback, not as a redirect');
  const alert = page.locator('#login-error[role=alert]');
  assert.ok(await alert.isVisible(), 'the refusal is announced');
  assert.match(await alert.innerText(), /Signing in with your organisation account failed/);
  await axeCheck(page);
  await goto(page, '/staff');
  assert.equal(path(page), '/login', 'not signed in');
}, { ignoreHTTPSErrors: true, locale: 'en-GB' }));

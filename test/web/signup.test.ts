import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addSubscriber } from '../../src/subscribers/store.js';
import { csrfOf, FormClient, linkIn, seedCatalog, signupForm, startWeb, type WebHarness } from './harness.js';

let web: WebHarness;
before(async () => {
  web = await startWeb();
  await seedCatalog(web);
});
after(() => web.close());

async function rowFor(email: string) {
  return web.database.db.selectFrom('subscribers').selectAll().where('email_normalized', '=', email).executeTakeFirst();
}

async function signUp(email: string, extra: Record<string, string | string[]> = {}) {
  const client = new FormClient(web.baseUrl);
  const home = await client.get('/subscribe');
  return client.post('/subscribe', signupForm(email, csrfOf(home.body), extra));
}

test('the home page lists categories, their feeds and last week’s posts, with an accessible form', async () => {
  const home = await new FormClient(web.baseUrl).get('/subscribe');
  assert.equal(home.status, 200);
  assert.match(home.body, /<html lang="en">/);
  assert.match(home.body, /<h3>Thinktime<\/h3>[\s\S]*3 posts last week[\s\S]*Planet Linux Australia[\s\S]*Seth Godin/);
  assert.match(home.body, /<h3>Tech &amp; Code<\/h3>[\s\S]*1 post last week[\s\S]*A List Apart/);
  for (const id of ['email', 'hour', 'timezone']) assert.match(home.body, new RegExp(`<label for="${id}">`));
  assert.equal((home.body.match(/name="categories" value="\w+" checked/g) ?? []).length, 2, 'every category ticked');
  assert.match(home.body, /<select id="timezone" name="timezone" data-detect-zone>/);
  assert.match(home.body, /<option selected>UTC<\/option>/, 'without JavaScript the default zone stays');
});

test('security headers: a CSP without inline script, no framing, no referrer, no caching', async () => {
  const home = await new FormClient(web.baseUrl).get('/subscribe');
  const csp = home.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /form-action 'self'/);
  assert.equal(home.headers.get('x-frame-options'), 'DENY');
  assert.equal(home.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(home.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(home.headers.get('cache-control'), 'no-store');
  assert.match(home.headers.get('set-cookie') ?? '', /^fd_form=[\w-]{22}; Path=\/; HttpOnly; SameSite=Lax/);
});

test('a sign-up sends one confirmation mail with HTML and a real text part, and records consent', async () => {
  const before = web.sink.received.length;
  const answer = await signUp('New.Reader@Example.org', { hour: '18', timezone: 'America/New_York', categories: 'tech' });
  assert.equal(answer.status, 200);
  assert.match(answer.body, /Check your inbox/);
  const mails = await web.sink.waitFor(before + 1);
  const mail = mails[before]!;
  // smtp-server lowercases the domain; the local part is kept as typed.
  assert.deepEqual(mail.envelopeTo, ['New.Reader@example.org']);
  assert.equal(mail.parsed.subject, 'Confirm your subscription to Planet Digest');
  const head = mail.raw.toString('latin1').split('\r\n\r\n')[0]!;
  assert.match(head, /Content-Type: multipart\/alternative/);
  const mime = mail.raw.toString('latin1');
  assert.match(mime, /Content-Type: text\/plain/);
  assert.match(mime, /Content-Type: text\/html/);
  const text = mail.parsed.text ?? '';
  assert.match(text, /Categories: Tech & Code/);
  assert.match(text, /daily at 18:00 \(America\/New_York\)/);
  assert.match(linkIn(text, 'confirm'), new RegExp(`^${web.baseUrl}/confirm/`));
  assert.match(mail.parsed.html || '', /<html[^>]* lang="en"/);
  assert.doesNotMatch(mail.parsed.html || '', /fonts\.googleapis/);

  const row = await rowFor('new.reader@example.org');
  assert.equal(row?.status, 'pending');
  assert.equal(row?.delivery_hour, 18);
  assert.equal(row?.timezone, 'America/New_York');
  const consent = await web.database.db.selectFrom('consents').selectAll().where('subscriber_id', '=', row.id).execute();
  assert.equal(consent.length, 1);
  assert.equal(consent[0]!.action, 'signup');
  assert.equal(consent[0]!.ip, '127.0.0.1');
  assert.equal(consent[0]!.user_agent, 'node');
  assert.deepEqual(consent[0]!.choices, {
    categories: ['tech'],
    timezone: 'America/New_York',
    deliveryHour: 18,
    frequency: 'daily',
    weeklyDay: 1,
  });
});

test('the same answer for a new, a subscribed and an already mailed address; one mail per address per day', async () => {
  const known = await addSubscriber(web.database.db, { email: 'known@example.org', categoryNames: ['thinktime'], timezone: 'Asia/Tokyo' });
  assert.ok('id' in known);
  const before = web.sink.received.length;
  const fresh = await signUp('fresh@example.org');
  const subscribed = await signUp('known@example.org');
  const again = await signUp('fresh@example.org');
  const page = (response: { body: string }, email: string) => response.body.replaceAll(email, '<address>');
  assert.deepEqual([fresh.status, subscribed.status, again.status], [200, 200, 200]);
  assert.equal(page(subscribed, 'known@example.org'), page(fresh, 'fresh@example.org'));
  assert.equal(page(again, 'fresh@example.org'), page(fresh, 'fresh@example.org'));

  const mails = (await web.sink.waitFor(before + 2)).slice(before);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(web.sink.received.length, before + 2, 'the repeated sign-up sent nothing');
  const toKnown = mails.find((m) => m.envelopeTo[0] === 'known@example.org')!;
  assert.equal(toKnown.parsed.subject, 'Confirm your new settings for Planet Digest');
  assert.match(toKnown.parsed.text ?? '', /already gets it/);
  // The sign-up changed nothing of the existing subscriber's until they confirm.
  const row = await rowFor('known@example.org');
  assert.equal(row?.status, 'active');
  assert.equal(row?.timezone, 'Asia/Tokyo');
});

test('a form without its token, with a forged one, or with another browser’s is refused', async () => {
  const client = new FormClient(web.baseUrl);
  const home = await client.get('/subscribe');
  const token = csrfOf(home.body);
  const missing = await client.post('/subscribe', signupForm('csrf1@example.org', ''));
  const forged = await client.post(
    '/subscribe',
    signupForm('csrf2@example.org', `${Math.floor(Date.now() / 1000) + 3600}.AAAAAAAAAAAAAAAAAAAAAA`),
  );
  const stranger = new FormClient(web.baseUrl);
  await stranger.get('/subscribe');
  const otherBrowser = await stranger.post('/subscribe', signupForm('csrf3@example.org', token));
  const noCookie = await new FormClient(web.baseUrl).post('/subscribe', signupForm('csrf4@example.org', token));
  for (const answer of [missing, forged, otherBrowser, noCookie]) {
    assert.equal(answer.status, 403);
    assert.match(answer.body, /This form has expired/);
  }
  for (const n of [1, 2, 3, 4]) assert.equal(await rowFor(`csrf${n}@example.org`), undefined);
});

test('a filled honeypot gets the usual answer and nothing happens', async () => {
  const before = web.sink.received.length;
  const answer = await signUp('bot@example.org', { website: 'https://spam.example' });
  assert.equal(answer.status, 200);
  assert.match(answer.body, /Check your inbox/);
  assert.equal(await rowFor('bot@example.org'), undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(web.sink.received.length, before);
});

test('wrong input is shown again with its problems, marked for assistive technology', async () => {
  const answer = await signUp('not-an-address', { categories: 'no-such-category', hour: '24', timezone: 'Mars/Olympus' });
  assert.equal(answer.status, 400);
  assert.match(answer.body, /role="alert"/);
  assert.match(answer.body, /id="email"[^>]*value="not-an-address" aria-invalid="true" aria-describedby="email-error"/);
  assert.match(answer.body, /Choose at least one category/);
  assert.match(answer.body, /Choose an hour/);
  assert.match(answer.body, /Choose a time zone/);
  assert.equal(await rowFor('not-an-address'), undefined);
});

test('a body over the limit is refused with 413', async () => {
  const client = new FormClient(web.baseUrl);
  const home = await client.get('/subscribe');
  const answer = await client.post('/subscribe', signupForm('big@example.org', csrfOf(home.body), { padding: 'x'.repeat(20_000) }));
  assert.equal(answer.status, 413);
  assert.equal(await rowFor('big@example.org'), undefined);
});

test('GET /healthz answers ok after a database round trip', async () => {
  const answer = await new FormClient(web.baseUrl).get('/healthz');
  assert.equal(answer.status, 200);
  assert.equal(answer.body, 'ok');
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { preferencesUrl } from '../../src/links/urls.js';
import { addSubscriber, subscriberCategoryNames } from '../../src/subscribers/store.js';
import { serverUrl } from '../helpers/db.js';
import { csrfOf, FormClient, linkIn, seedCatalog, signupForm, startWeb, type WebHarness } from './harness.js';

/** Issue 11, items 10-13 on the web: confirm links, time zones, query lookups, answer timing. */
const backend = serverUrl ? 'Postgres server' : 'PGlite';
let web: WebHarness;
/** While set, the SMTP server holds every message until it is called. */
let holdMail: Promise<undefined> | undefined;

before(async () => {
  web = await startWeb({ sink: { onMessage: () => holdMail } });
  await seedCatalog(web);
});
after(() => web.close());

async function rowFor(email: string) {
  return web.database.db.selectFrom('subscribers').selectAll().where('email_normalized', '=', email).executeTakeFirstOrThrow();
}

async function signUp(email: string, extra: Record<string, string | string[]> = {}) {
  const client = new FormClient(web.baseUrl);
  return client.post('/subscribe', signupForm(email, csrfOf((await client.get('/subscribe')).body), extra));
}

async function confirmLinkFor(email: string, count: number): Promise<string> {
  const mails = await web.sink.waitFor(count);
  const mail = mails.filter((m) => m.envelopeTo[0] === email).at(-1)!;
  return linkIn(mail.parsed.text ?? '', 'confirm');
}

async function confirm(link: string) {
  const client = new FormClient(web.baseUrl);
  const page = await client.get(link);
  if (page.status !== 200) return page;
  return client.post(link, { _csrf: csrfOf(page.body) });
}

test(`a confirm link works once (${backend})`, async () => {
  assert.equal((await signUp('once@example.org')).status, 200);
  const link = await confirmLinkFor('once@example.org', web.sink.received.length + 1);
  assert.match((await confirm(link)).body, /You are subscribed/);
  assert.equal((await new FormClient(web.baseUrl).get(link)).status, 404, 'the page is gone after use');
  // Unsubscribed since, a replay must not bring the address back.
  await web.database.db
    .updateTable('subscribers')
    .set({ status: 'unsubscribed' })
    .where('email_normalized', '=', 'once@example.org')
    .execute();
  const client = new FormClient(web.baseUrl);
  const home = await client.get('/subscribe');
  assert.equal((await client.post(link, { _csrf: csrfOf(home.body) })).status, 404);
  assert.equal((await rowFor('once@example.org')).status, 'unsubscribed');
});

test(`a confirm link confirms its own sign-up, never a later one's choices (${backend})`, async () => {
  const { db } = web.database;
  assert.equal((await signUp('bound@example.org', { categories: 'tech', hour: '7' })).status, 200);
  const own = await confirmLinkFor('bound@example.org', web.sink.received.length + 1);
  // A day later someone else types the same address with other choices.
  await db
    .updateTable('subscribers')
    .set({ confirmation_sent_at: new Date(Date.now() - 2 * 86400_000) })
    .where('email_normalized', '=', 'bound@example.org')
    .execute();
  assert.equal((await signUp('bound@example.org', { categories: 'thinktime', hour: '3', timezone: 'Asia/Tokyo' })).status, 200);
  const later = await confirmLinkFor('bound@example.org', web.sink.received.length + 1);
  assert.notEqual(own, later);

  assert.equal((await confirm(own)).status, 404, 'the older link no longer confirms anything');
  const row = await rowFor('bound@example.org');
  assert.equal(row.status, 'pending');

  assert.match((await confirm(later)).body, /You are subscribed/);
  const confirmed = await rowFor('bound@example.org');
  assert.deepEqual([confirmed.timezone, confirmed.delivery_hour], ['Asia/Tokyo', 3]);
  assert.deepEqual(await subscriberCategoryNames(db, confirmed.id), ['thinktime']);
});

test('the sign-up answer comes before any mail work, the same for a new and an already mailed address', async () => {
  let release!: (value: undefined) => void;
  holdMail = new Promise<undefined>((resolve) => (release = resolve));
  const before = web.sink.received.length;
  try {
    // The SMTP server holds the message: an answer that waited for the mail would not come.
    const answered = (response: Promise<{ status: number; body: string }>) =>
      Promise.race([response, new Promise<undefined>((resolve) => setTimeout(resolve, 15_000, undefined))]);
    const fresh = await answered(signUp('timing@example.org'));
    assert.ok(fresh !== undefined, 'answered while the confirmation mail was still on its way');
    const again = await answered(signUp('timing@example.org'));
    assert.ok(again !== undefined);
    assert.equal(web.sink.received.length, before, 'no mail was accepted yet');
    assert.deepEqual([fresh.status, again.status], [200, 200]);
    assert.equal(again.body, fresh.body);
  } finally {
    holdMail = undefined;
    release(undefined);
  }
  const mails = (await web.sink.waitFor(before + 1)).slice(before);
  assert.deepEqual(
    mails.map((m) => m.envelopeTo[0]),
    ['timing@example.org'],
  );
});

test(`zones Intl accepts but the database does not are refused on sign-up and preferences (${backend})`, async () => {
  const answer = await signUp('pacific@example.org', { timezone: 'US/Pacific-New' });
  assert.equal(answer.status, 400);
  assert.match(answer.body, /Choose a time zone/);

  const added = await addSubscriber(web.database.db, {
    email: 'prefs-zone@example.org',
    categoryNames: ['tech'],
    timezone: 'Europe/Paris',
  });
  assert.ok('id' in added);
  const client = new FormClient(web.baseUrl);
  const url = preferencesUrl(web.config, added.id);
  const page = await client.get(url);
  const saved = await client.post(url, {
    _csrf: csrfOf(page.body),
    categories: 'tech',
    hour: '7',
    timezone: 'Canada/East-Saskatchewan',
    frequency: 'daily',
  });
  assert.equal(saved.status, 400);
  assert.match(saved.body, /Choose a time zone/);
  assert.equal((await rowFor('prefs-zone@example.org')).timezone, 'Europe/Paris');
});

test('?done= reads only its own notices, not Object.prototype', async () => {
  const added = await addSubscriber(web.database.db, { email: 'done@example.org', categoryNames: ['tech'] });
  assert.ok('id' in added);
  const client = new FormClient(web.baseUrl);
  const plain = await client.get(preferencesUrl(web.config, added.id));
  for (const done of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const page = await client.get(`${preferencesUrl(web.config, added.id)}?done=${done}`);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /function|\[native code\]|\[object Object\]/, done);
    assert.equal(page.body.replace(/value="[^"]+"/g, ''), plain.body.replace(/value="[^"]+"/g, ''), `${done}: no notice at all`);
  }
  const saved = await client.get(`${preferencesUrl(web.config, added.id)}?done=saved`);
  assert.match(saved.body, /Your choices are saved/);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { confirmUrl, preferencesUrl, unsubscribeUrl } from '../../src/links/urls.js';
import { recordConsent } from '../../src/subscribers/consent.js';
import { addSubscriber, subscriberCategoryNames } from '../../src/subscribers/store.js';
import { csrfOf, FormClient, seedCatalog, startWeb, type WebHarness } from './harness.js';

let web: WebHarness;
before(async () => {
  web = await startWeb();
  await seedCatalog(web);
});
after(() => web.close());

async function subscriber(email: string, status: 'pending' | 'active' = 'active') {
  const added = await addSubscriber(web.database.db, { email, categoryNames: ['thinktime', 'tech'], status });
  assert.ok('id' in added, 'problem' in added ? added.problem : '');
  return added.id;
}

/** A sign-up waiting for confirmation, as registerSignup leaves it. */
async function waitingSignup(id: number): Promise<number> {
  const { db } = web.database;
  const signupId = await recordConsent(
    db,
    id,
    'signup',
    { channel: 'web', ip: null, userAgent: null },
    { categories: ['thinktime', 'tech'] },
  );
  await db.updateTable('subscribers').set({ pending_signup_id: signupId }).where('id', '=', id).execute();
  return signupId;
}

async function snapshot(id: number) {
  const { db } = web.database;
  const row = await db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const consents = await db.selectFrom('consents').select('action').where('subscriber_id', '=', id).orderBy('id').execute();
  return { row, categories: await subscriberCategoryNames(db, id), consents: consents.map((c) => c.action) };
}

/** A token with one character of its payload or MAC changed. */
function alter(url: string, part: 1 | 2): string {
  const token = url.slice(url.lastIndexOf('/') + 1);
  const pieces = token.split('.');
  const piece = pieces[part]!;
  pieces[part] = piece.slice(0, -2) + (piece.at(-2) === 'A' ? 'B' : 'A') + piece.at(-1);
  return `${url.slice(0, url.lastIndexOf('/') + 1)}${pieces.join('.')}`;
}

test('forged, altered, expired and misused tokens all get the not-found page, 404', async () => {
  const id = await subscriber('tokens@example.org', 'pending');
  const client = new FormClient(web.baseUrl);
  const unknown = await client.get('/no/such/page');
  assert.equal(unknown.status, 404);
  const otherSecret = { ...web.config, secret: 'another-secret-'.padEnd(40, 'q') };
  const bad = [
    `${web.baseUrl}/confirm/garbage`,
    `${web.baseUrl}/unsubscribe/a.b.c`,
    confirmUrl(otherSecret, id, await waitingSignup(id), new Date(Date.now() + 3600_000)),
    alter(confirmUrl(web.config, id, await waitingSignup(id), new Date(Date.now() + 3600_000)), 1),
    alter(unsubscribeUrl(web.config, id), 2),
    alter(preferencesUrl(web.config, id), 2),
    confirmUrl(web.config, id, await waitingSignup(id), new Date(Date.now() - 1000)),
    // A token for one purpose does not open another page.
    `${web.baseUrl}/unsubscribe/${preferencesUrl(web.config, id).split('/').pop()}`,
    // A genuine token for a subscriber who no longer exists.
    unsubscribeUrl(web.config, 999_999),
  ];
  for (const url of bad) {
    const answer = await client.get(url);
    assert.equal(answer.status, 404, url);
    assert.equal(answer.body, unknown.body, `same page as an unknown one: ${url}`);
  }
  const expired = await client.post(confirmUrl(web.config, id, await waitingSignup(id), new Date(Date.now() - 1000)), { _csrf: 'x' });
  assert.equal(expired.status, 404);
  assert.equal(expired.body, unknown.body);
  const oneClickForged = await client.post(alter(unsubscribeUrl(web.config, id), 2), 'List-Unsubscribe=One-Click');
  assert.equal(oneClickForged.status, 404);
  assert.equal((await snapshot(id)).row.status, 'pending');
});

test('opening confirm, unsubscribe and preferences links changes nothing', async () => {
  const pending = await subscriber('get-pending@example.org', 'pending');
  const active = await subscriber('get-active@example.org');
  const signupId = await waitingSignup(pending);
  const before = [await snapshot(pending), await snapshot(active)];
  const client = new FormClient(web.baseUrl);
  const pages = [
    confirmUrl(web.config, pending, signupId, new Date(Date.now() + 3600_000)),
    unsubscribeUrl(web.config, active),
    preferencesUrl(web.config, active),
    unsubscribeUrl(web.config, pending),
  ];
  for (const url of pages) {
    const answer = await client.get(url);
    assert.equal(answer.status, 200, url);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.match(answer.body, /<form method="post">/);
  }
  // HEAD, which scanners also use, is a GET without a body.
  assert.equal((await fetch(unsubscribeUrl(web.config, active), { method: 'HEAD' })).status, 200);
  assert.deepEqual([await snapshot(pending), await snapshot(active)], before);
});

test('confirming needs the form token, then makes the subscriber active from now on', async () => {
  const id = await subscriber('confirm@example.org', 'pending');
  const url = confirmUrl(web.config, id, await waitingSignup(id), new Date(Date.now() + 3600_000));
  const client = new FormClient(web.baseUrl);
  const page = await client.get(url);
  assert.match(page.body, /confirm@example\.org/);
  assert.equal((await client.post(url, {})).status, 403);
  assert.equal((await client.post(url, { _csrf: 'bogus' })).status, 403);
  assert.equal((await snapshot(id)).row.status, 'pending');

  const answer = await client.post(url, { _csrf: csrfOf(page.body) });
  assert.equal(answer.status, 200);
  assert.match(answer.body, /You are subscribed/);
  const { row, consents } = await snapshot(id);
  assert.equal(row.status, 'active');
  assert.ok(row.confirmed_at instanceof Date);
  assert.match(row.items_cursor ?? '', /^\d+:\d+:[\d,]*$/, 'the cursor is a snapshot');
  assert.deepEqual(consents, ['signup', 'confirm']);
});

test('RFC 8058 one-click: 200 without redirect, cookie or form token; idempotent; urlencoded or multipart', async () => {
  const id = await subscriber('oneclick@example.org');
  const post = (body: string, contentType: string) =>
    fetch(unsubscribeUrl(web.config, id), { method: 'POST', headers: { 'content-type': contentType }, body, redirect: 'manual' });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const answer = await post('List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('location'), null);
    assert.equal(answer.headers.get('set-cookie'), null);
  }
  let state = await snapshot(id);
  assert.equal(state.row.status, 'unsubscribed');
  assert.ok(state.row.unsubscribed_at instanceof Date);
  assert.deepEqual(state.consents, ['unsubscribe'], 'the repeat recorded nothing');
  const consent = await web.database.db.selectFrom('consents').selectAll().where('subscriber_id', '=', id).executeTakeFirstOrThrow();
  assert.equal(consent.channel, 'one-click');

  // RFC 8058's own example body, multipart with the two leading dashes left out.
  await web.database.db.updateTable('subscribers').set({ status: 'active' }).where('id', '=', id).execute();
  const multipart = [
    '---FormBoundaryjWmhtjORrn',
    'Content-Disposition: form-data; name="List-Unsubscribe"',
    '',
    'One-Click',
    '---FormBoundaryjWmhtjORrn--',
    '',
  ].join('\r\n');
  const answer = await post(multipart, 'multipart/form-data; boundary=---FormBoundaryjWmhtjORrn');
  assert.equal(answer.status, 200);
  state = await snapshot(id);
  assert.equal(state.row.status, 'unsubscribed');
});

test('the unsubscribe page needs its form token; resubscribing works from it', async () => {
  const id = await subscriber('page-unsub@example.org');
  const url = unsubscribeUrl(web.config, id);
  const client = new FormClient(web.baseUrl);
  const page = await client.get(url);
  assert.equal((await client.post(url, { action: 'unsubscribe' })).status, 403);
  assert.equal((await snapshot(id)).row.status, 'active');
  const gone = await client.post(url, { _csrf: csrfOf(page.body), action: 'unsubscribe' });
  assert.equal(gone.status, 200);
  assert.match(gone.body, /You are unsubscribed/);
  assert.equal((await snapshot(id)).row.status, 'unsubscribed');
  const back = await client.post(url, { _csrf: csrfOf(gone.body), action: 'resubscribe' });
  assert.match(back.body, /Welcome back/);
  const { row, consents } = await snapshot(id);
  assert.equal(row.status, 'active');
  assert.equal(row.unsubscribed_at, null);
  assert.deepEqual(consents, ['unsubscribe', 'resubscribe']);
});

test('someone who never confirmed cannot resubscribe without a new opt-in', async () => {
  const id = await subscriber('never-confirmed@example.org', 'pending');
  const url = unsubscribeUrl(web.config, id);
  const client = new FormClient(web.baseUrl);
  const page = await client.get(url);
  await client.post(url, { _csrf: csrfOf(page.body), action: 'unsubscribe' });
  const after = await client.get(url);
  assert.doesNotMatch(after.body, /Resubscribe/);
  // Posting the action anyway (a token from the earlier page is still valid) changes nothing.
  await client.post(url, { _csrf: csrfOf(page.body), action: 'resubscribe' });
  assert.equal((await snapshot(id)).row.status, 'unsubscribed');
});

test('preferences: change categories, time and frequency; pause and resume; bad input is refused', async () => {
  const id = await subscriber('prefs@example.org');
  const url = preferencesUrl(web.config, id);
  const client = new FormClient(web.baseUrl);
  const page = await client.get(url);
  const csrf = csrfOf(page.body);
  const saved = await client.post(url, {
    _csrf: csrf,
    action: 'save',
    categories: 'tech',
    hour: '21',
    timezone: 'Pacific/Auckland',
    frequency: 'weekly',
    weekday: '3',
  });
  assert.equal(saved.status, 303);
  assert.equal(saved.headers.get('location'), `${new URL(url).pathname}?done=saved`);
  let state = await snapshot(id);
  assert.deepEqual(state.categories, ['tech']);
  assert.equal(state.row.delivery_hour, 21);
  assert.equal(state.row.timezone, 'Pacific/Auckland');
  assert.equal(state.row.frequency, 'weekly');
  assert.equal(state.row.weekly_day, 3);
  assert.match((await client.get(saved.headers.get('location')!)).body, /Your choices are saved/);

  const bad = await client.post(url, { _csrf: csrf, action: 'save', categories: 'tech', hour: '7', timezone: 'Not/AZone' });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /Choose a time zone/);
  assert.equal((await snapshot(id)).row.timezone, 'Pacific/Auckland');

  await client.post(url, { _csrf: csrf, action: 'pause' });
  assert.equal((await snapshot(id)).row.status, 'paused');
  await client.post(url, { _csrf: csrf, action: 'resume' });
  state = await snapshot(id);
  assert.equal(state.row.status, 'active');
  assert.deepEqual(state.consents, ['preferences', 'pause', 'resume']);
  assert.equal((await client.post(url, { action: 'pause' })).status, 403);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { unsubscribeUrl } from '../../src/links/urls.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { csrfOf, FormClient, seedCatalog, signupForm, startWeb, type WebHarness } from './harness.js';

let web: WebHarness;
before(async () => {
  web = await startWeb({ limits: { signupsPerHour: 2, requestsPerMinute: 8 } });
  await seedCatalog(web);
});
after(() => web.close());

test('sign-ups past the per-IP limit get 429 and change nothing', async () => {
  const client = new FormClient(web.baseUrl);
  const home = await client.get('/subscribe');
  const statuses = [];
  for (const n of [1, 2, 3])
    statuses.push((await client.post('/subscribe', signupForm(`limit${n}@example.org`, csrfOf(home.body)))).status);
  assert.deepEqual(statuses, [200, 200, 429]);
  const third = await web.database.db
    .selectFrom('subscribers')
    .select('id')
    .where('email_normalized', '=', 'limit3@example.org')
    .executeTakeFirst();
  assert.equal(third, undefined);
});

test('pages have a per-IP limit; one-click unsubscribes and /healthz are exempt', async () => {
  const added = await addSubscriber(web.database.db, { email: 'limited@example.org', categoryNames: ['thinktime'] });
  assert.ok('id' in added);
  const client = new FormClient(web.baseUrl);
  let last = 0;
  for (let n = 0; n < 10 && last !== 429; n += 1) last = (await client.get('/subscribe')).status;
  assert.equal(last, 429);
  const slowDown = await client.get('/subscribe');
  assert.equal(slowDown.status, 429);
  assert.match(slowDown.body, /Too many requests/);
  assert.equal((await client.get('/healthz')).status, 200);
  const oneClick = await client.post(unsubscribeUrl(web.config, added.id), 'List-Unsubscribe=One-Click');
  assert.equal(oneClick.status, 200);
  // Form posts to the same URL have a limit of their own; one-clicks still pass after it.
  let form = 0;
  for (let n = 0; n < 10 && form !== 429; n += 1)
    form = (await client.post(unsubscribeUrl(web.config, added.id), 'action=unsubscribe')).status;
  assert.equal(form, 429);
  assert.equal((await client.post(unsubscribeUrl(web.config, added.id), 'List-Unsubscribe=One-Click')).status, 200);
});

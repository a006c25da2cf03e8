import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { addCategory, addFeed } from '../../src/feeds/store.js';
import { runJob } from '../../src/jobs/run.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/transport.js';
import { isProblem } from '../../src/problem.js';
import { testConfig } from '../delivery/support.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';
import { startServer, type TestServer } from '../feeds/server.js';

/** Issue 11, item 16: cron's `run` is the scheduler's tick, not "fetch everything". */
const backend = serverUrl ? 'Postgres server' : 'PGlite';
const config = testConfig({ FETCH_ALLOW_PRIVATE: 'true' });
let database: TestDatabase;
let feeds: TestServer;
let sink: SmtpSink;
let mailer: Mailer;

before(async () => {
  database = await createTestDatabase();
  feeds = await startServer((req, res) => {
    if (req.url === '/busy') return void res.writeHead(503, { 'retry-after': '7200' }).end();
    res
      .writeHead(200, { 'content-type': 'application/rss+xml' })
      .end('<rss version="2.0"><channel><title>T</title><item><guid>1</guid><title>One</title></item></channel></rss>');
  });
  sink = await startSmtpSink();
  mailer = createSmtpMailer(sink.url, 1);
});
after(async () => {
  await mailer.close();
  await sink.close();
  await feeds.close();
  await database.close();
});

test(`a tick fetches only due feeds: a second run in the same hour and a feed that asked to wait are left alone (${backend})`, async () => {
  const { db } = database;
  assert.ok(!isProblem(await addCategory(db, { name: 'tick' })));
  for (const path of ['/feed', '/busy']) assert.ok(!isProblem(await addFeed(db, { url: feeds.url(path), categoryName: 'tick' })));

  const first = await runJob(db, config, mailer);
  assert.equal(first.fetched.feeds, 2);
  assert.deepEqual(feeds.requests.map((r) => r.url).sort(), ['/busy', '/feed']);

  const second = await runJob(db, config, mailer);
  assert.equal(second.fetched.feeds, 0, 'nothing is due: the interval, and the Retry-After of /busy');
  assert.equal(feeds.requests.length, 2);
});

test(`a tick purges sign-ups never confirmed (${backend})`, async () => {
  const { db } = database;
  await db
    .insertInto('subscribers')
    .values({
      email: 'stale@example.org',
      email_normalized: 'stale@example.org',
      status: 'pending',
      confirmation_sent_at: sql<Date>`now() - interval '8 days'`,
    })
    .execute();
  const summary = await runJob(db, config, mailer);
  assert.equal(summary.purged, 1);
  assert.equal(
    await db.selectFrom('subscribers').select('id').where('email_normalized', '=', 'stale@example.org').executeTakeFirst(),
    undefined,
  );
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/transport.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { verifyToken } from '../../src/links/tokens.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

let database: TestDatabase;
let sink: SmtpSink;
let mailer: Mailer;
const secret = 'test-secret-'.padEnd(40, 'x');
const config = { ...loadConfig({ BASE_URL: 'https://digest.example.org', SECRET: secret, SITE_NAME: 'Planet Digest' }), secret };

before(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  mailer = createSmtpMailer(sink.url, 2);
});
after(async () => {
  await mailer.close();
  await sink.close();
  await database.close();
});

test('a subscriber gets one digest of the new posts in their categories, once', async () => {
  const { db } = database;
  const thinktime = await seedCategory(db, 'thinktime', 'Thinktime');
  const tech = await seedCategory(db, 'tech', 'Tech');
  const planet = await seedFeed(db, thinktime, 'Planet Linux Australia');
  const seth = await seedFeed(db, thinktime, 'Seth Godin');
  const gadgets = await seedFeed(db, tech, 'Gadgets');
  await seedItem(db, planet, { title: 'Before subscribing' });
  const subscriber = await addSubscriber(db, { email: 'Reader@Example.org', categoryNames: ['thinktime'] });
  assert.ok('id' in subscriber);
  await seedItem(db, planet, { title: 'Michael Still: Blueprints implemented in Nova' });
  await seedItem(db, seth, { title: 'The sophistication of truth' });
  await seedItem(db, seth, { title: 'Old post from the first fetch', mailable: false });
  await seedItem(db, gadgets, { title: 'A gadget post' });

  const first = await sendDueDigests(db, config, mailer);
  assert.equal(first.delivered.sent, 1);
  assert.equal(first.planned.editions, 1);
  const [mail] = await sink.waitFor(1);
  const { parsed, raw } = mail!;
  assert.deepEqual(mail!.envelopeTo, ['Reader@example.org']);
  assert.equal(
    parsed.subject,
    'The sophistication of truth · Michael Still: Blueprints implemented in Nova',
    'the top headlines, newest first',
  );
  assert.match(parsed.html || '', /Michael Still: Blueprints implemented in Nova/);
  assert.match(parsed.html || '', /The sophistication of truth/);
  assert.doesNotMatch(parsed.html || '', /Before subscribing|Old post from the first fetch|A gadget post/);
  assert.match(parsed.text ?? '', /The sophistication of truth/);
  assert.match(parsed.text ?? '', /engines & notes/, 'the text part is not HTML-escaped');

  const head = raw.toString('latin1').split('\r\n\r\n')[0]!.replace(/\r\n /g, ' ');
  assert.match(head, /Content-Type: multipart\/alternative/);
  const unsubscribe = parsed.headers.get('list-unsubscribe') as { url?: string; mail?: string } | string;
  // No inbound door is configured here: a mailto: would go to a mailbox nothing reads.
  const header = head.match(/^List-Unsubscribe: <(https:[^>]+)>$/m);
  assert.ok(header, `List-Unsubscribe header: ${JSON.stringify(unsubscribe)}`);
  const token = header[1]!.replace('https://digest.example.org/unsubscribe/', '');
  assert.equal(verifyToken({ current: secret }, token, 'unsubscribe')?.subscriberId, subscriber.id);
  assert.match(head, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
  assert.match(head, /List-ID: Planet Digest <digest\.digest\.example\.org>/i);
  assert.match(head, /Message-ID: <fd\.\d+\.\d+\.[0-9a-f]{12}@digest\.example\.org>/);
  assert.ok((parsed.html || '').includes(header[1]!), 'the body links to the same unsubscribe URL');
  assert.match(parsed.html || '', /https:\/\/digest\.example\.org\/preferences\//);
  assert.ok(!/FD-[0-9a-f]{24}-/.test(`${parsed.html}${parsed.text}`), 'no placeholder is left');

  const second = await sendDueDigests(db, config, mailer);
  assert.equal(second.delivered.sent, 0);
  assert.equal(second.planned.pending, 0);
  assert.equal(sink.received.length, 1);
});

test('the next period brings only the posts that arrived since', async () => {
  const { db } = database;
  const feed = (await db.selectFrom('feeds').select('id').where('title', '=', 'Seth Godin').executeTakeFirstOrThrow()).id;
  await seedItem(db, feed, { title: 'Tomorrow’s post' });
  const sameDay = await sendDueDigests(db, config, mailer);
  assert.equal(sameDay.delivered.sent, 0, 'one digest per period');
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const next = await sendDueDigests(db, config, mailer, { now: tomorrow });
  assert.equal(next.delivered.sent, 1);
  const mails = await sink.waitFor(2);
  assert.match(mails[1]!.parsed.html || '', /Tomorrow’s post/);
  assert.doesNotMatch(mails[1]!.parsed.html || '', /sophistication/);
});

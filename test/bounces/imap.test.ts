import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { imapClient, pollMailbox } from '../../src/bounces/imap.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/transport.js';
import { Metrics } from '../../src/scheduler/metrics.js';
import { startScheduler } from '../../src/scheduler/scheduler.js';
import { addSubscriber, getSubscriber } from '../../src/subscribers/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { dovecotSkipReason, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { arfComplaint, dsnBounce, unsubscribeMail, vacationReply } from '../helpers/inbound-mail.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

/**
 * End to end through a real IMAP server (Dovecot) and a real SMTP server: digests are
 * sent, the bounce, the complaint and the mailed unsubscribe that come back are
 * dropped into the mailbox, and serve's poll (the function its scheduler calls)
 * stops each subscriber and moves each message out of the inbox.
 */
const skip = dovecotSkipReason();
if (skip !== undefined) console.log(`# IMAP end-to-end test skipped: ${skip}`);

let database: TestDatabase;
let sink: SmtpSink;
let mailer: Mailer;
let dovecot: Dovecot;
const secret = 'imap-test-secret-'.padEnd(40, 'w');
let config: ReturnType<typeof loadConfig> & { secret: string };

before(async () => {
  if (skip !== undefined) return;
  // One at a time: if one fails, `after` still stops those already started (a Dovecot left
  // running would keep this test process alive).
  dovecot = await startDovecot();
  sink = await startSmtpSink();
  database = await createTestDatabase();
  mailer = createSmtpMailer(sink.url, 2);
  config = {
    ...loadConfig({
      BASE_URL: 'https://digest.example.org',
      SECRET: secret,
      SITE_NAME: 'Planet Digest',
      BOUNCE_ADDRESS: 'bounces@example.org',
      INBOUND_IMAP_URL: dovecot.url,
      LOG_LEVEL: 'silent',
    }),
    secret,
  };
});
after(async () => {
  if (skip !== undefined) return;
  // Whatever `before` got to start (the rest is still unassigned).
  await (dovecot as Dovecot | undefined)?.stop();
  await (mailer as Mailer | undefined)?.close();
  await (sink as SmtpSink | undefined)?.close();
  await (database as TestDatabase | undefined)?.close();
});

async function append(...messages: Buffer[]): Promise<void> {
  const { client, mailbox } = imapClient(dovecot.url);
  await client.connect();
  for (const message of messages) await client.append(mailbox, message);
  await client.logout();
}

async function folderCounts(): Promise<Record<string, number>> {
  const { client } = imapClient(dovecot.url);
  await client.connect();
  const counts: Record<string, number> = {};
  for (const folder of ['INBOX', 'Processed', 'Unrecognized']) {
    const status = await client.status(folder, { messages: true });
    counts[folder] = status === false ? -1 : (status.messages ?? 0);
  }
  await client.logout();
  return counts;
}

test(
  'a bounce, a complaint and a mailed unsubscribe in the mailbox stop their subscribers; an auto-reply changes nothing; other mail is moved aside',
  { skip },
  async () => {
    const { db } = database;
    const category = await seedCategory(db, 'news', 'News');
    const feed = await seedFeed(db, category, 'Planet');
    const people: Array<{ id: number }> = [];
    for (const name of ['bounced', 'complains', 'leaves', 'stays']) {
      const subscriber = await addSubscriber(db, { email: `${name}@example.net`, categoryNames: ['news'] });
      assert.ok('id' in subscriber);
      people.push(subscriber);
    }
    await seedItem(db, feed, { title: 'A post everyone gets' });
    const sent = await sendDueDigests(db, config, mailer);
    assert.equal(sent.delivered.sent, 4);
    const mails = await sink.waitFor(4);
    const mailTo = (email: string) => mails.find((m) => m.envelopeTo.includes(email))!;

    const bounced = mailTo('bounced@example.net');
    const complains = mailTo('complains@example.net');
    const leaves = mailTo('leaves@example.net');
    const mailto = /<mailto:([^?>]+)/.exec(leaves.raw.toString('latin1'))![1]!;
    await append(
      dsnBounce({ returnPath: bounced.envelopeFrom, recipient: 'bounced@example.net' }),
      arfComplaint(complains.raw, { to: 'fbl@example.org', recipient: 'complains@example.net' }),
      unsubscribeMail({ from: 'leaves@example.net', to: mailto }),
      // A bounce that names a subscriber but carries no genuine tag: moved aside, acted on by nobody.
      dsnBounce({ returnPath: 'bounces@example.org', recipient: 'stays@example.net' }),
      // A vacation reply to a digest: ours, and ignored.
      vacationReply({ from: 'stays@example.net', to: mailTo('stays@example.net').envelopeFrom }),
    );

    const metrics = new Metrics(db);
    const polled = await pollMailbox(db, config, createLogger(config));
    metrics.recordInbound(polled);
    assert.deepEqual(
      { messages: polled.messages, processed: polled.processed, unrecognized: polled.unrecognized },
      { messages: 5, processed: 4, unrecognized: 1 },
    );

    const status = async (index: number) => (await getSubscriber(db, people[index]!.id))?.status;
    assert.equal(await status(0), 'bounced');
    assert.equal(await status(1), 'unsubscribed');
    assert.equal(await status(2), 'unsubscribed');
    assert.equal(await status(3), 'active');
    const consents = await db
      .selectFrom('consents')
      .select(['subscriber_id', 'action'])
      .where('channel', '=', 'mail')
      .orderBy('subscriber_id')
      .execute();
    assert.deepEqual(consents, [
      { subscriber_id: people[1]!.id, action: 'complaint' },
      { subscriber_id: people[2]!.id, action: 'unsubscribe' },
    ]);
    assert.deepEqual(await folderCounts(), { INBOX: 0, Processed: 4, Unrecognized: 1 });

    const exposition = await metrics.registry.metrics();
    assert.match(exposition, /feed_digest_inbound_total\{kind="hard",action="bounced"\} 1/);
    assert.match(exposition, /feed_digest_inbound_total\{kind="complaint",action="unsubscribed"\} 1/);
    assert.match(exposition, /feed_digest_inbound_total\{kind="unsubscribe",action="unsubscribed"\} 1/);
    assert.match(exposition, /feed_digest_bounce_events\{kind="hard",action="bounced"\} 1/);
  },
);

test("serve's scheduler reads the mailbox on its tick", { skip }, async () => {
  const { db } = database;
  const subscriber = await addSubscriber(db, { email: 'later@example.net', categoryNames: ['news'] });
  assert.ok('id' in subscriber);
  const feed = (await db.selectFrom('feeds').select('id').executeTakeFirstOrThrow()).id;
  await seedItem(db, feed, { title: 'A later post' });
  const scheduler = startScheduler({ db, config: { ...config, schedulerTickSeconds: 3600 }, mailer, logger: createLogger(config) });
  try {
    await scheduler.tick();
    const [mail] = (await sink.waitFor(5)).filter((m) => m.envelopeTo.includes('later@example.net'));
    assert.ok(mail);
    await append(
      dsnBounce({
        returnPath: mail.envelopeFrom,
        recipient: 'later@example.net',
        status: '5.1.2',
        diagnostic: 'Host or domain name not found',
      }),
    );
    await scheduler.tick();
    assert.equal((await getSubscriber(db, subscriber.id))?.status, 'bounced');
  } finally {
    await scheduler.stop();
  }
});

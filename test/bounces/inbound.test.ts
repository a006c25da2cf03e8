import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { handleInbound } from '../../src/bounces/inbound.js';
import { bounceAddress, unsubscribeMailto, verifiedTags } from '../../src/links/verp.js';
import { loadConfig } from '../../src/config/config.js';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/transport.js';
import { addSubscriber, getSubscriber } from '../../src/subscribers/store.js';
import { cliArgs } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { arfComplaint, dsnBounce, unsubscribeMail } from '../helpers/inbound-mail.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp.js';

let database: TestDatabase;
let sink: SmtpSink;
let mailer: Mailer;
let feedId: number;
const secret = 'inbound-test-secret-'.padEnd(40, 'y');
const env = {
  BASE_URL: 'https://digest.example.org',
  SECRET: secret,
  SITE_NAME: 'Planet Digest',
  BOUNCE_ADDRESS: 'bounces@example.org',
  UNSUBSCRIBE_ADDRESS: 'unsubscribe@example.org',
  INBOUND_PIPE: 'true',
  BOUNCE_SOFT_LIMIT: '2',
};
const config = { ...loadConfig(env), secret };

before(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  mailer = createSmtpMailer(sink.url, 1);
  const category = await seedCategory(database.db, 'news', 'News');
  feedId = await seedFeed(database.db, category, 'Planet');
});
after(async () => {
  await mailer.close();
  await sink.close();
  await database.close();
});

let people = 0;
/** A subscriber who has just been sent a digest: returns them and the message as received. */
async function mailedSubscriber(): Promise<{ id: number; email: string; mail: ReceivedMail }> {
  people += 1;
  const email = `reader${people}@example.net`;
  const subscriber = await addSubscriber(database.db, { email, categoryNames: ['news'] });
  assert.ok('id' in subscriber);
  await seedItem(database.db, feedId, { title: `Post for ${email}` });
  const before = sink.received.length;
  const summary = await sendDueDigests(database.db, config, mailer);
  assert.ok(summary.delivered.sent >= 1);
  const mails = await sink.waitFor(before + summary.delivered.sent);
  const mail = mails.find((m) => m.envelopeTo.includes(email));
  assert.ok(mail, `a digest reached ${email}`);
  return { id: subscriber.id, email, mail };
}

const statusOf = async (id: number) => (await getSubscriber(database.db, id))?.status;

test('each digest goes out from its own signed VERP address and offers the tagged mailto:', async () => {
  const { id, mail } = await mailedSubscriber();
  const delivery = await database.db.selectFrom('deliveries').select('id').where('subscriber_id', '=', id).executeTakeFirstOrThrow();
  assert.equal(mail.envelopeFrom, bounceAddress(config, delivery.id));
  assert.match(mail.envelopeFrom, /^bounces\+b\d+-[0-9a-f]{24}@example\.org$/);
  // Unfolded: a long header may be folded between its two addresses (RFC 2369 allows it).
  const head = mail.raw
    .toString('latin1')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]+/g, ' ');
  const listUnsubscribe = /^List-Unsubscribe: <(https:[^>]+)>, <(mailto:[^>]+)>$/m.exec(head);
  assert.ok(listUnsubscribe, head);
  assert.equal(listUnsubscribe[2], unsubscribeMailto(config, id));
  assert.deepEqual(verifiedTags({ current: secret }, mail.envelopeFrom), [{ purpose: 'bounce', id: delivery.id }]);
  // Case folded by some mail system on the way: still genuine. Altered or signed with another key: not.
  assert.equal(verifiedTags({ current: secret }, mail.envelopeFrom.toUpperCase()).length, 1);
  assert.deepEqual(
    verifiedTags(
      { current: secret },
      mail.envelopeFrom.replace(/-([0-9a-f])/, (_m, c: string) => `-${c === '0' ? '1' : '0'}`),
    ),
    [],
  );
  assert.deepEqual(verifiedTags({ current: 'another-secret-'.padEnd(40, 'z') }, mail.envelopeFrom), []);
});

test('a hard bounce to the VERP address stops the subscriber at once; what the bounce says about the recipient is not trusted', async () => {
  const victim = await mailedSubscriber();
  const bounced = await mailedSubscriber();
  // The bounce claims to be about the victim, but comes back to the other delivery's address.
  const result = await handleInbound(
    database.db,
    config,
    dsnBounce({ returnPath: bounced.mail.envelopeFrom, recipient: victim.email }),
    'mail',
  );
  assert.equal(result.classification.kind, 'hard');
  assert.equal(result.applied.action, 'bounced');
  assert.equal(await statusOf(bounced.id), 'bounced');
  assert.equal(await statusOf(victim.id), 'active');
  const events = await database.db.selectFrom('bounce_events').selectAll().where('subscriber_id', '=', bounced.id).execute();
  assert.equal(events.length, 1);
  assert.equal(events[0]!.dsn_status, '5.1.1');
  assert.match(events[0]!.evidence, /hard bounce \(rfc3464\)/);
});

test('soft bounces count, and stop the address at the limit', async () => {
  const { id, email, mail } = await mailedSubscriber();
  const full = {
    returnPath: mail.envelopeFrom,
    recipient: email,
    status: '4.2.2',
    diagnostic: '452 4.2.2 Mailbox full',
    action: 'delayed' as const,
  };
  // A delay warning is no failure: the server is still trying.
  const warning = await handleInbound(database.db, config, dsnBounce(full), 'mail');
  assert.equal(warning.classification.kind, 'soft');
  assert.equal(warning.applied.action, 'ignored');
  // Given up after the queue lifetime, still with the temporary code: a soft bounce.
  assert.equal((await handleInbound(database.db, config, dsnBounce({ ...full, action: 'failed' }), 'mail')).applied.action, 'counted');
  assert.equal(await statusOf(id), 'active');
  assert.equal(
    (
      await handleInbound(
        database.db,
        config,
        dsnBounce({ ...full, status: '5.2.2', diagnostic: '552 5.2.2 Mailbox full', action: 'failed' }),
        'mail',
      )
    ).applied.action,
    'bounced',
  );
  assert.equal(await statusOf(id), 'bounced');
});

test('a temporary code does not make a dead mailbox soft (4.1.1 user unknown is hard), but a delay warning still changes nothing', async () => {
  const { id, email, mail } = await mailedSubscriber();
  const unknown = {
    returnPath: mail.envelopeFrom,
    recipient: email,
    status: '4.1.1',
    diagnostic: `450 4.1.1 <${email}>: Recipient address rejected: User unknown in virtual alias table`,
    action: 'delayed' as const,
  };
  const warning = await handleInbound(database.db, config, dsnBounce(unknown), 'mail');
  assert.equal(warning.classification.kind, 'hard');
  assert.equal(warning.applied.action, 'ignored');
  assert.equal(await statusOf(id), 'active');
  const failed = await handleInbound(
    database.db,
    config,
    dsnBounce({ ...unknown, action: 'failed', messageId: 'final-411@mx.example.net' }),
    'mail',
  );
  assert.equal(failed.classification.recipients[0]?.reason, 'userunknown');
  assert.equal(failed.applied.action, 'bounced');
  assert.equal(await statusOf(id), 'bounced');
});

test('nothing acts on a forged or missing tag; the same bounce twice acts once', async () => {
  const { id, email, mail } = await mailedSubscriber();
  const forged = mail.envelopeFrom.replace(/-[0-9a-f]{24}@/, `-${'a'.repeat(24)}@`);
  assert.equal(
    (await handleInbound(database.db, config, dsnBounce({ returnPath: forged, recipient: email }), 'mail')).applied.action,
    'ignored',
  );
  assert.equal(
    (await handleInbound(database.db, config, dsnBounce({ returnPath: 'bounces@example.org', recipient: email }), 'mail')).applied.action,
    'ignored',
  );
  assert.equal(await statusOf(id), 'active');
  const soft = dsnBounce({
    returnPath: mail.envelopeFrom,
    recipient: email,
    status: '4.4.7',
    diagnostic: 'delivery time expired',
    messageId: 'same@mx.example.net',
  });
  assert.equal((await handleInbound(database.db, config, soft, 'mail')).applied.action, 'counted');
  assert.equal((await handleInbound(database.db, config, soft, 'imap')).applied.action, 'duplicate');
  assert.equal(await statusOf(id), 'active');
});

test('a complaint report unsubscribes at once and is recorded in consents; it never marks anyone bounced', async () => {
  const { id, email, mail } = await mailedSubscriber();
  const report = arfComplaint(mail.raw, { to: 'abuse@example.org', recipient: email });
  const result = await handleInbound(database.db, config, report, 'mail');
  assert.equal(result.classification.kind, 'complaint');
  assert.equal(result.applied.action, 'unsubscribed');
  assert.equal(await statusOf(id), 'unsubscribed');
  const consents = await database.db
    .selectFrom('consents')
    .select(['action', 'channel'])
    .where('subscriber_id', '=', id)
    .where('action', '=', 'complaint')
    .execute();
  assert.deepEqual(consents, [{ action: 'complaint', channel: 'mail' }]);
});

test('an authentication-failure report (DMARC forensic) about a digest unsubscribes nobody', async () => {
  const { id, email, mail } = await mailedSubscriber();
  const report = arfComplaint(mail.raw, { to: 'dmarc@example.org', recipient: email, feedbackType: 'auth-failure' });
  const result = await handleInbound(database.db, config, report, 'mail');
  assert.equal(result.classification.kind, 'complaint');
  assert.equal(result.applied.action, 'ignored');
  assert.equal(await statusOf(id), 'active');
});

test('mail to the List-Unsubscribe address unsubscribes the subscriber its tag names', async () => {
  const { id, email, mail } = await mailedSubscriber();
  const mailto = /<mailto:([^?>]+)/.exec(mail.raw.toString('latin1'))![1]!;
  const result = await handleInbound(database.db, config, unsubscribeMail({ from: email, to: mailto }), 'mail');
  assert.equal(result.classification.kind, 'unsubscribe');
  assert.equal(result.applied.action, 'unsubscribed');
  assert.equal(await statusOf(id), 'unsubscribed');
  // Someone else's plain mail, or one to an untagged address, changes nothing.
  const other = await mailedSubscriber();
  const untagged = await handleInbound(database.db, config, unsubscribeMail({ from: other.email, to: 'unsubscribe@example.org' }), 'mail');
  assert.equal(untagged.applied.action, 'ignored');
  assert.equal(await statusOf(other.id), 'active');
});

async function pipe(args: string[], input: Buffer, extraEnv: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env, ...extraEnv },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdin.end(input);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout };
}

test('`feed-digest inbound` reads one message on stdin; --classify --json tells what it is and changes nothing', async () => {
  const { id, email, mail } = await mailedSubscriber();
  const bounce = dsnBounce({ returnPath: mail.envelopeFrom, recipient: email });
  const classified = await pipe(['inbound', '--classify', '--json'], bounce, database.env);
  assert.equal(classified.code, 0);
  const described = JSON.parse(classified.stdout) as {
    kind: string;
    recipients: Array<{ recipient: string; bounce: string; status: string }>;
    tag: { purpose: string };
  };
  assert.equal(described.kind, 'hard');
  assert.deepEqual(
    described.recipients.map((r) => [r.recipient, r.bounce, r.status]),
    [[email, 'hard', '5.1.1']],
  );
  assert.equal(described.tag.purpose, 'bounce');
  assert.equal(await statusOf(id), 'active');

  if (database.mode === 'server') {
    // The embedded test database is held open by this process; a server takes a second client.
    const applied = await pipe(['inbound'], bounce, database.env);
    assert.equal(applied.code, 0);
    assert.equal(await statusOf(id), 'bounced');
  }
  assert.equal((await pipe(['inbound'], Buffer.alloc(0), database.env)).code, 65);
});

test('a complaint report whose returned message is base64-encoded still names its delivery', async () => {
  const { id, email, mail } = await mailedSubscriber();
  const report = arfComplaint(Buffer.from(''), { to: 'abuse@example.org', recipient: email })
    .toString('latin1')
    .replace(
      'Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n',
      `Content-Type: message/rfc822\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n${mail.raw.toString('base64').replace(/.{76}/g, '$&\r\n')}`,
    );
  const result = await handleInbound(database.db, config, Buffer.from(report, 'latin1'), 'mail');
  assert.equal(result.classification.kind, 'complaint');
  assert.equal(result.applied.action, 'unsubscribed');
  assert.equal(await statusOf(id), 'unsubscribed');
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConfigWithSecret } from '../../src/config/config.js';
import { bounceAddress } from '../../src/links/verp.js';
import { sendDueDigests } from '../../src/jobs/send.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { buildWebServer } from '../../src/web/server.js';
import { seedItem } from '../helpers/seed.js';
import { seedCatalog, startWeb, type WebHarness } from './harness.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-feedback';
const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem';
const MAILGUN_KEY = 'mailgun-signing-key-for-tests';
const POSTMARK = { user: 'postmark', password: 'postmark-password-1234' };

/** A self-signed certificate and its key, made for this run, standing in for Amazon's. */
function makeCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'fd-sns-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=sns.amazonaws.com',
      '-days',
      '2',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const made = { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  rmSync(dir, { recursive: true, force: true });
  return made;
}
const sns = makeCertificate();
const certificateRequests: string[] = [];
const confirmations: string[] = [];

type Fields = Record<string, string>;

/** Signs an SNS message as AWS does: the listed fields as "name\nvalue\n", SHA1 (v1) or SHA256 (v2) with RSA. */
function snsMessage(
  type: string,
  fields: Fields,
  options: { version?: '1' | '2'; key?: string; certUrl?: string; timestamp?: Date } = {},
): Fields {
  const message: Fields = {
    Type: type,
    MessageId: randomBytes(16).toString('hex'),
    TopicArn: TOPIC,
    Timestamp: (options.timestamp ?? new Date()).toISOString(),
    SignatureVersion: options.version ?? '1',
    SigningCertURL: options.certUrl ?? CERT_URL,
    ...fields,
  };
  const names =
    type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = names
    .filter((name) => message[name] !== undefined)
    .map((name) => `${name}\n${message[name]}\n`)
    .join('');
  message.Signature = sign(message.SignatureVersion === '1' ? 'sha1' : 'sha256', Buffer.from(text), options.key ?? sns.key).toString(
    'base64',
  );
  return message;
}

function sesNotification(event: object, messageId?: string, source = 'digest@digest.example'): string {
  return JSON.stringify({
    mail: { messageId: 'ses-0001', source, commonHeaders: messageId === undefined ? {} : { messageId } },
    ...event,
  });
}

function mailgunBody(event: object, options: { key?: string; timestamp?: number; token?: string } = {}) {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const token = options.token ?? randomBytes(25).toString('hex');
  const signature = createHmac('sha256', options.key ?? MAILGUN_KEY)
    .update(timestamp + token)
    .digest('hex');
  return { signature: { timestamp, token, signature }, 'event-data': { id: randomBytes(8).toString('hex'), ...event } };
}

let web: WebHarness;
const ids: Record<string, number> = {};

/** What a call can change: every subscriber's status, the recorded events and the consents. */
async function state() {
  const { db } = web.database;
  const subscribers = await db.selectFrom('subscribers').select(['email', 'status']).orderBy('id').execute();
  const events = await db
    .selectFrom('bounce_events')
    .select(['subscriber_id', 'kind', 'source', 'action', 'delivery_id'])
    .orderBy('id')
    .execute();
  const consents = await db.selectFrom('consents').select(['subscriber_id', 'action']).orderBy('id').execute();
  return { subscribers, events, consents };
}

async function status(email: string): Promise<string> {
  const row = await web.database.db.selectFrom('subscribers').select('status').where('email', '=', email).executeTakeFirstOrThrow();
  return row.status;
}

async function post(provider: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${web.baseUrl}/webhooks/${provider}`, {
    method: 'POST',
    headers: { 'content-type': typeof body === 'string' ? 'text/plain; charset=UTF-8' : 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}

/** A forged or replayed call: refused (or acted on never again), and nothing changes. */
async function changesNothing(call: () => Promise<{ status: number }>, expectedStatus: number) {
  const before = await state();
  assert.equal((await call()).status, expectedStatus);
  assert.deepEqual(await state(), before);
}

before(async () => {
  web = await startWeb({
    env: {
      WEBHOOK_SES_TOPIC_ARN: TOPIC,
      WEBHOOK_MAILGUN_SIGNING_KEY: MAILGUN_KEY,
      WEBHOOK_POSTMARK_USER: POSTMARK.user,
      WEBHOOK_POSTMARK_PASSWORD: POSTMARK.password,
    },
    webhooks: {
      fetchCertificate: async (url) => {
        certificateRequests.push(url);
        if (url !== CERT_URL) throw new Error(`no certificate at ${url}`);
        return sns.cert;
      },
      confirmSubscription: async (url) => {
        confirmations.push(url);
      },
    },
  });
  await seedCatalog(web);
  for (const name of [
    'ses-hard',
    'ses-complaint',
    'ses-delivered',
    'ses-verp',
    'mg-hard',
    'mg-soft',
    'mg-complaint',
    'mg-verp',
    'pm-hard',
    'pm-complaint',
    'pm-verp',
  ]) {
    const subscriber = await addSubscriber(web.database.db, { email: `${name}@example.net`, categoryNames: ['thinktime'] });
    assert.ok('id' in subscriber);
    ids[name] = subscriber.id;
  }
  // Real digests of a post that is new to them, so that deliveries carry the Message-IDs the providers report back.
  const feed = await web.database.db.selectFrom('feeds').select('id').where('title', '=', 'Seth Godin').executeTakeFirstOrThrow();
  await seedItem(web.database.db, feed.id);
  const sent = await sendDueDigests(web.database.db, web.config, web.mailer);
  assert.equal(sent.delivered.sent, 11);
});
after(() => web.close());

async function messageIdOf(name: string): Promise<string> {
  const row = await web.database.db
    .selectFrom('deliveries')
    .select('message_id')
    .where('subscriber_id', '=', ids[name]!)
    .executeTakeFirstOrThrow();
  return row.message_id!;
}

/** The signed envelope sender (VERP) the digest to this subscriber went out with. */
async function envelopeSenderOf(name: string): Promise<string> {
  const row = await web.database.db.selectFrom('deliveries').select('id').where('subscriber_id', '=', ids[name]!).executeTakeFirstOrThrow();
  return bounceAddress(web.config, row.id);
}

describe('Amazon SES through SNS', () => {
  test('a permanent bounce stops the address, found by our Message-ID; the same call again changes nothing', async () => {
    const messageId = await messageIdOf('ses-hard');
    const bounce = sesNotification(
      {
        notificationType: 'Bounce',
        // The address as the remote server wrote it: the Message-ID is what identifies the delivery.
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          feedbackId: 'fb-1',
          bouncedRecipients: [{ emailAddress: 'SES-HARD@EXAMPLE.NET', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        },
      },
      messageId,
    );
    const call = snsMessage('Notification', { Message: bounce });
    const answer = await post('ses', JSON.stringify(call));
    assert.equal(answer.status, 200, answer.body);
    assert.equal(await status('ses-hard@example.net'), 'bounced');
    const [event] = (await state()).events.filter((e) => e.subscriber_id === ids['ses-hard']);
    assert.equal(event?.kind, 'hard');
    assert.equal(event?.source, 'ses');
    assert.ok(event?.delivery_id !== null, 'tied to the delivery by its Message-ID');
    await changesNothing(() => post('ses', JSON.stringify(call)), 200);
    assert.deepEqual(certificateRequests, [CERT_URL], 'the certificate is fetched once and remembered');
  });

  test('a complaint signed with SignatureVersion 2 unsubscribes and is recorded as consent evidence', async () => {
    const complaint = sesNotification(
      {
        notificationType: 'Complaint',
        complaint: {
          feedbackId: 'fb-2',
          complaintFeedbackType: 'abuse',
          complainedRecipients: [{ emailAddress: 'ses-complaint@example.net' }],
        },
      },
      await messageIdOf('ses-complaint'),
    );
    assert.equal((await post('ses', JSON.stringify(snsMessage('Notification', { Message: complaint }, { version: '2' })))).status, 200);
    assert.equal(await status('ses-complaint@example.net'), 'unsubscribed');
    const consents = (await state()).consents.filter((c) => c.subscriber_id === ids['ses-complaint']);
    assert.ok(consents.some((c) => c.action === 'complaint'));
  });

  test('the signed envelope sender names the delivery when nothing else does', async () => {
    const bounce = (source: string) =>
      sesNotification(
        {
          notificationType: 'Bounce',
          // An address the remote server rewrote, and no Message-ID: only the VERP tag says who it was.
          bounce: {
            bounceType: 'Permanent',
            feedbackId: `fb-verp-${source}`,
            bouncedRecipients: [{ emailAddress: 'forwarded@elsewhere.example' }],
          },
        },
        undefined,
        source,
      );
    const genuine = await envelopeSenderOf('ses-verp');
    const forged = genuine.replace(/-[0-9a-f]{24}@/, '-000000000000000000000000@');
    await changesNothing(() => post('ses', JSON.stringify(snsMessage('Notification', { Message: bounce(forged) }))), 200);
    assert.equal((await post('ses', JSON.stringify(snsMessage('Notification', { Message: bounce(genuine) })))).status, 200);
    assert.equal(await status('ses-verp@example.net'), 'bounced');
  });

  test('a delivery event is accepted and changes nothing', async () => {
    const delivery = sesNotification(
      { eventType: 'Delivery', delivery: { recipients: ['ses-delivered@example.net'], smtpResponse: '250 ok' } },
      await messageIdOf('ses-delivered'),
    );
    await changesNothing(() => post('ses', JSON.stringify(snsMessage('Notification', { Message: delivery }))), 200);
  });

  test('forged, altered, stale, foreign and misdirected messages are refused and change nothing', async () => {
    const bounce = (email: string) =>
      sesNotification({
        notificationType: 'Bounce',
        bounce: { bounceType: 'Permanent', feedbackId: `fb-${email}`, bouncedRecipients: [{ emailAddress: email }] },
      });
    const genuine = snsMessage('Notification', { Message: bounce('mg-soft@example.net') });
    // The signature of another message: the body was changed on the way.
    await changesNothing(() => post('ses', JSON.stringify({ ...genuine, Message: bounce('mg-hard@example.net') })), 403);
    // Signed by a key that is not the certificate's.
    const stranger = makeCertificate();
    await changesNothing(
      () => post('ses', JSON.stringify(snsMessage('Notification', { Message: bounce('mg-soft@example.net') }, { key: stranger.key }))),
      403,
    );
    // Our own certificate's key, but the certificate is to come from a host of the forger's choosing, or over http.
    for (const certUrl of [
      'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem',
      'http://sns.eu-west-1.amazonaws.com/cert.pem',
      'https://evil.example/sns.eu-west-1.amazonaws.com.pem',
    ]) {
      await changesNothing(
        () => post('ses', JSON.stringify(snsMessage('Notification', { Message: bounce('mg-soft@example.net') }, { certUrl }))),
        403,
      );
    }
    assert.ok(
      certificateRequests.every((url) => url === CERT_URL),
      'no certificate is fetched from elsewhere',
    );
    // A genuine message, two days old: a replay.
    await changesNothing(
      () =>
        post(
          'ses',
          JSON.stringify(
            snsMessage('Notification', { Message: bounce('mg-soft@example.net') }, { timestamp: new Date(Date.now() - 2 * 86_400_000) }),
          ),
        ),
      403,
    );
    // Someone else's topic.
    const foreign = snsMessage('Notification', {
      Message: bounce('mg-soft@example.net'),
      TopicArn: 'arn:aws:sns:eu-west-1:999999999999:theirs',
    });
    await changesNothing(() => post('ses', JSON.stringify(foreign)), 403);
    await changesNothing(() => post('ses', 'not json at all'), 400);
  });

  test('a subscription confirmation is logged, not followed, unless the setting says so', async () => {
    const subscribeUrl = 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=abc';
    const message = snsMessage('SubscriptionConfirmation', {
      Message: 'You have chosen to subscribe',
      SubscribeURL: subscribeUrl,
      Token: 'abc',
    });
    assert.equal((await post('ses', JSON.stringify(message))).status, 200);
    assert.deepEqual(confirmations, []);
  });
});

describe('Mailgun', () => {
  test('a permanent failure stops the address; replaying the call, or its event under a new token, changes nothing', async () => {
    const body = mailgunBody({
      event: 'failed',
      severity: 'permanent',
      reason: 'bounce',
      recipient: 'mg-hard@example.net',
      message: { headers: { 'message-id': (await messageIdOf('mg-hard')).replace(/[<>]/g, '') } },
      'delivery-status': { code: 550, description: 'No such user' },
    });
    assert.equal((await post('mailgun', body)).status, 200);
    assert.equal(await status('mg-hard@example.net'), 'bounced');
    await changesNothing(() => post('mailgun', body), 403);
    const again = mailgunBody(body['event-data']);
    again['event-data'].id = body['event-data'].id;
    await changesNothing(() => post('mailgun', again), 200);
  });

  test('the envelope sender Mailgun reports names the delivery', async () => {
    const body = mailgunBody({
      event: 'failed',
      severity: 'permanent',
      recipient: 'forwarded@elsewhere.example',
      envelope: { sender: await envelopeSenderOf('mg-verp') },
    });
    assert.equal((await post('mailgun', body)).status, 200);
    assert.equal(await status('mg-verp@example.net'), 'bounced');
  });

  test('a temporary failure counts as soft; a complaint unsubscribes', async () => {
    const soft = mailgunBody({
      event: 'failed',
      severity: 'temporary',
      recipient: 'mg-soft@example.net',
      'delivery-status': { code: 452, message: 'mailbox full' },
    });
    assert.equal((await post('mailgun', soft)).status, 200);
    assert.equal(await status('mg-soft@example.net'), 'active');
    assert.deepEqual(
      (await state()).events.filter((e) => e.subscriber_id === ids['mg-soft']).map((e) => [e.kind, e.action]),
      [['soft', 'counted']],
    );
    assert.equal((await post('mailgun', mailgunBody({ event: 'complained', recipient: 'mg-complaint@example.net' }))).status, 200);
    assert.equal(await status('mg-complaint@example.net'), 'unsubscribed');
  });

  test('a wrong key, a bad signature or a stale timestamp is refused and changes nothing', async () => {
    const event = { event: 'failed', severity: 'permanent', recipient: 'mg-soft@example.net' };
    await changesNothing(() => post('mailgun', mailgunBody(event, { key: 'not-the-key' })), 403);
    const tampered = mailgunBody(event);
    tampered.signature.signature = tampered.signature.signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await changesNothing(() => post('mailgun', tampered), 403);
    await changesNothing(() => post('mailgun', mailgunBody(event, { timestamp: Math.floor(Date.now() / 1000) - 600 })), 403);
    await changesNothing(() => post('mailgun', { 'event-data': event }), 403);
  });
});

describe('Postmark', () => {
  const auth = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

  test('with its basic auth, a hard bounce stops the address and a spam complaint unsubscribes; replays change nothing', async () => {
    const bounce = {
      RecordType: 'Bounce',
      ID: 4242,
      Type: 'HardBounce',
      TypeCode: 1,
      MessageID: 'pm-uuid-1',
      Email: 'pm-hard@example.net',
      Details: 'smtp;550 5.1.1 unknown',
    };
    assert.equal((await post('postmark', bounce, auth(POSTMARK.user, POSTMARK.password))).status, 200);
    assert.equal(await status('pm-hard@example.net'), 'bounced');
    await changesNothing(() => post('postmark', bounce, auth(POSTMARK.user, POSTMARK.password)), 200);
    const complaint = {
      RecordType: 'SpamComplaint',
      ID: 4243,
      Type: 'SpamComplaint',
      TypeCode: 100001,
      MessageID: 'pm-uuid-2',
      Email: 'pm-complaint@example.net',
    };
    assert.equal((await post('postmark', complaint, auth(POSTMARK.user, POSTMARK.password))).status, 200);
    assert.equal(await status('pm-complaint@example.net'), 'unsubscribed');
  });

  test('the delivery tag sent as Postmark metadata names the delivery, whatever address the event gives; a forged tag changes nothing', async () => {
    const delivery = await web.database.db
      .selectFrom('deliveries')
      .select('id')
      .where('subscriber_id', '=', ids['pm-verp']!)
      .executeTakeFirstOrThrow();
    const digest = web.sink.received.find((m) => m.envelopeTo[0] === 'pm-verp@example.net');
    const tag = digest?.parsed.headers.get('x-pm-metadata-fd-delivery');
    assert.ok(
      typeof tag === 'string' && /^b\d+-[0-9a-f]{24}$/.test(tag),
      `the digest carries its signed tag as Postmark metadata: ${JSON.stringify(tag)}`,
    );
    // The address as the remote server (or a forwarder) gave it: only the metadata says who it was.
    const bounce = (metadata: string, id: number) => ({
      RecordType: 'Bounce',
      ID: id,
      Type: 'HardBounce',
      MessageID: `pm-uuid-${id}`,
      Email: 'forwarded@elsewhere.example',
      Details: 'smtp;550 5.1.1 unknown',
      Metadata: { 'fd-delivery': metadata },
    });
    const forged = tag.replace(/-[0-9a-f]{24}$/, '-000000000000000000000000');
    await changesNothing(() => post('postmark', bounce(forged, 4250), auth(POSTMARK.user, POSTMARK.password)), 200);
    assert.equal((await post('postmark', bounce(tag, 4251), auth(POSTMARK.user, POSTMARK.password))).status, 200);
    assert.equal(await status('pm-verp@example.net'), 'bounced');
    const events = (await state()).events.filter((e) => e.subscriber_id === ids['pm-verp']);
    assert.deepEqual(
      events.map((e) => [e.kind, e.source, e.delivery_id]),
      [['hard', 'postmark', delivery.id]],
    );
  });

  test('without the right credentials nothing changes', async () => {
    const bounce = { RecordType: 'Bounce', ID: 4244, Type: 'HardBounce', Email: 'mg-soft@example.net' };
    await changesNothing(() => post('postmark', bounce), 401);
    await changesNothing(() => post('postmark', bounce, auth(POSTMARK.user, 'wrong-password-123456')), 401);
    await changesNothing(() => post('postmark', bounce, auth('someone', POSTMARK.password)), 401);
  });
});

/** Another server on the same database, with other webhook settings. */
async function withServer(webhooks: ConfigWithSecret['webhooks'], work: (url: string) => Promise<void>) {
  const server = await buildWebServer({
    db: web.database.db,
    config: { ...web.config, webhooks },
    mailer: web.mailer,
    webhooks: { fetchCertificate: async () => sns.cert, confirmSubscription: async (url) => void confirmations.push(url) },
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  try {
    await work(`http://127.0.0.1:${(server.server.address() as { port: number }).port}`);
  } finally {
    await server.close();
  }
}

test('with WEBHOOK_SES_CONFIRM_SUBSCRIPTIONS on, a genuine confirmation is followed, on an SNS host only', async () => {
  await withServer({ ses: { topicArns: [TOPIC], confirmSubscriptions: true }, mailgun: undefined, postmark: undefined }, async (url) => {
    const confirm = (subscribeUrl: string) =>
      fetch(`${url}/webhooks/ses`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=UTF-8' },
        body: JSON.stringify(snsMessage('SubscriptionConfirmation', { Message: 'confirm', SubscribeURL: subscribeUrl, Token: 't' })),
      });
    const genuine = 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t';
    assert.equal((await confirm(genuine)).status, 200);
    assert.equal((await confirm('https://evil.example/?Action=ConfirmSubscription')).status, 200);
    assert.deepEqual(confirmations, [genuine]);
  });
});

test('a provider without settings answers 404', async () => {
  await withServer({ ses: undefined, mailgun: undefined, postmark: undefined }, async (url) => {
    for (const provider of ['ses', 'mailgun', 'postmark', 'sendgrid']) {
      const response = await fetch(`${url}/webhooks/${provider}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(response.status, 404, provider);
    }
  });
});

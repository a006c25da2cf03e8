import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { applyOutcome } from '../../src/bounces/apply.js';
import { bounceRates, describeRates } from '../../src/bounces/stats.js';
import type { Db } from '../../src/db/connect.js';
import { addSubscriber, getSubscriber } from '../../src/subscribers/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedCategory } from '../helpers/seed.js';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
  await seedCategory(database.db, 'news');
});
after(async () => database.close());

let count = 0;
async function subscriberWithDelivery(db: Db): Promise<{ subscriberId: number; deliveryId: number }> {
  count += 1;
  const subscriber = await addSubscriber(db, { email: `reader${count}@example.org`, categoryNames: ['news'] });
  assert.ok('id' in subscriber);
  const delivery = await db
    .insertInto('deliveries')
    .values({ subscriber_id: subscriber.id, period: new Date(), status: 'sent', message_id: `<fd.${count}.1@example.org>` })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { subscriberId: subscriber.id, deliveryId: delivery.id };
}

async function statusOf(db: Db, id: number): Promise<string | undefined> {
  return (await getSubscriber(db, id))?.status;
}

test('a hard bounce stops the address at once and is recorded with its evidence', async () => {
  const { db } = database;
  const { subscriberId, deliveryId } = await subscriberWithDelivery(db);
  const applied = await applyOutcome(db, {
    kind: 'hard',
    deliveryId,
    status: '5.1.1',
    diagnostic: '550 5.1.1 no such user',
    source: 'mail',
    evidence: 'DSN',
  });
  assert.equal(applied.action, 'bounced');
  assert.equal(await statusOf(db, subscriberId), 'bounced');
  const events = await db.selectFrom('bounce_events').selectAll().where('subscriber_id', '=', subscriberId).execute();
  assert.equal(events.length, 1);
  assert.equal(events[0]!.dsn_status, '5.1.1');
  assert.equal(events[0]!.delivery_id, deliveryId);
});

test('soft bounces stop the address after the limit within the window, not before', async () => {
  const { db } = database;
  const { subscriberId, deliveryId } = await subscriberWithDelivery(db);
  const rules = { bounceSoftLimit: 3, bounceSoftDays: 7 };
  // An old soft bounce, outside the window, does not count.
  await db
    .insertInto('bounce_events')
    .values({
      subscriber_id: subscriberId,
      kind: 'soft',
      source: 'mail',
      action: 'counted',
      evidence: 'old',
      created_at: new Date(Date.now() - 8 * 86_400_000),
    })
    .execute();
  for (const expected of ['counted', 'counted', 'bounced']) {
    const applied = await applyOutcome(db, { kind: 'soft', deliveryId, status: '4.2.2', source: 'imap', evidence: 'full' }, rules);
    assert.equal(applied.action, expected);
  }
  assert.equal(await statusOf(db, subscriberId), 'bounced');
});

test('a complaint unsubscribes at once and is recorded in consents; a replay acts once', async () => {
  const { db } = database;
  const { subscriberId } = await subscriberWithDelivery(db);
  const outcome = {
    kind: 'complaint' as const,
    messageId: `fd.${count}.1@example.org`,
    source: 'ses' as const,
    evidence: 'abuse report',
    eventKey: 'ses:abc',
  };
  assert.equal((await applyOutcome(db, outcome)).action, 'unsubscribed');
  assert.equal((await applyOutcome(db, outcome)).action, 'duplicate');
  assert.equal(await statusOf(db, subscriberId), 'unsubscribed');
  const consents = await db
    .selectFrom('consents')
    .select(['action', 'channel'])
    .where('subscriber_id', '=', subscriberId)
    .where('action', '=', 'complaint')
    .execute();
  assert.deepEqual(consents, [{ action: 'complaint', channel: 'mail' }]);
});

test('outcomes that name nobody, auto-replies and non-bounces change nothing', async () => {
  const { db } = database;
  const { subscriberId, deliveryId } = await subscriberWithDelivery(db);
  assert.equal((await applyOutcome(db, { kind: 'hard', deliveryId: 999_999, source: 'mail', evidence: '' })).action, 'ignored');
  assert.equal(
    (await applyOutcome(db, { kind: 'hard', email: 'stranger@example.org', source: 'mailgun', evidence: '' })).action,
    'ignored',
  );
  assert.equal((await applyOutcome(db, { kind: 'not-bounce', deliveryId, source: 'mail', evidence: '' })).action, 'ignored');
  assert.equal((await applyOutcome(db, { kind: 'auto-reply', deliveryId, source: 'mail', evidence: 'vacation' })).action, 'none');
  assert.equal(await statusOf(db, subscriberId), 'active');
  const byEmail = await applyOutcome(db, { kind: 'unsubscribe', email: `READER${count}@example.org`, source: 'postmark', evidence: '' });
  assert.equal(byEmail.action, 'unsubscribed');
});

test('status rates: reports over digests sent in 7 and 30 days, with a warning above 0.1% complaints', async () => {
  const { db } = database;
  await db.deleteFrom('bounce_events').execute();
  const { subscriberId } = await subscriberWithDelivery(db);
  const day = 86_400_000;
  const sentAt = (daysAgo: number) => new Date(Date.now() - daysAgo * day);
  // 500 digests sent 2 days ago and 500 sent 20 days ago.
  await db
    .insertInto('deliveries')
    .values(
      Array.from({ length: 1000 }, (_, i) => ({
        subscriber_id: subscriberId,
        period: new Date(Date.UTC(2000, 0, 1) + i * day),
        status: 'sent' as const,
        sent_at: sentAt(i < 500 ? 2 : 20),
      })),
    )
    .execute();
  const event = (kind: 'hard' | 'soft' | 'complaint', daysAgo: number) => ({
    subscriber_id: subscriberId,
    kind,
    source: 'mail' as const,
    action: 'none' as const,
    evidence: 'test',
    created_at: sentAt(daysAgo),
  });
  await db
    .insertInto('bounce_events')
    .values([event('hard', 1), event('soft', 1), event('complaint', 10)])
    .execute();

  const [week, month] = [await bounceRates(db, 7), await bounceRates(db, 30)];
  assert.deepEqual([week.sent, week.hard, week.soft, week.complaints], [500, 1, 1, 0]);
  assert.equal(week.bounceRate, 2 / 500);
  assert.deepEqual([month.sent, month.complaints], [1000, 1]);
  assert.equal(month.complaintRate, 0.001);
  assert.ok(!describeRates([week, month]).some((line) => line.startsWith('WARNING')), 'exactly 0.1% is not above it');
  // A digest the server refused while we sent it was handed over too: it counts in the denominator.
  await db
    .insertInto('bounce_events')
    .values([
      { ...event('hard', 2), source: 'smtp' as const },
      { ...event('soft', 2), source: 'smtp' as const },
    ])
    .execute();
  const withRefusals = await bounceRates(db, 7);
  assert.deepEqual([withRefusals.sent, withRefusals.refused, withRefusals.hard, withRefusals.soft], [500, 2, 2, 2]);
  assert.equal(withRefusals.bounceRate, 4 / 502);
  assert.match(describeRates([withRefusals])[0]!, /500 sent \(and 2 refused while sending\)/);
  await db.insertInto('bounce_events').values(event('complaint', 3)).execute();
  const lines = describeRates([await bounceRates(db, 7), await bounceRates(db, 30)]);
  assert.deepEqual(
    lines.filter((line) => line.startsWith('WARNING')).map((line) => /over (\d+) days/.exec(line)?.[1]),
    ['7', '30'],
  );
});

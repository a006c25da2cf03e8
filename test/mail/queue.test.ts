import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { claimAhead, groupCommit } from '../../src/mail/queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

test('group commit gathers what arrives before the next turn of the event loop, and what arrives while a flush runs', async () => {
  const flushed: number[][] = [];
  let release: () => void = () => {};
  const commit = groupCommit(async (items: number[]) => {
    flushed.push(items);
    if (flushed.length === 1) await new Promise<void>((resolve) => (release = resolve));
  });
  const first = [commit(1), commit(2)];
  assert.deepEqual(flushed, [], 'a flush waits for one turn of the event loop');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(flushed, [[1, 2]]);
  const rest = [commit(3), commit(4)];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(flushed, [[1, 2]], 'the others wait for the running flush');
  release();
  await Promise.all([...first, ...rest]);
  assert.deepEqual(flushed, [
    [1, 2],
    [3, 4],
  ]);
});

test('a failed flush rejects every caller of that group, and the next group still flushes', async () => {
  let calls = 0;
  const commit = groupCommit(async () => {
    calls += 1;
    if (calls === 1) throw new Error('database gone');
  });
  await assert.rejects(commit('a'), /database gone/);
  await commit('b');
  assert.equal(calls, 2);
});

async function seedDeliveries(count: number): Promise<void> {
  const { db } = database;
  await sql`INSERT INTO subscribers (email, email_normalized, status)
    SELECT 'r' || g || '@example.org', 'r' || g || '@example.org', 'active' FROM generate_series(1, ${count}::int) g`.execute(db);
  await sql`INSERT INTO deliveries (subscriber_id, period, status)
    SELECT id, now() - interval '1 hour', 'pending' FROM subscribers`.execute(db);
}

test('claims ahead take every due delivery exactly once, in batches, and hand back what nobody took', async () => {
  const { db } = database;
  await seedDeliveries(50);
  const sizes: number[] = [];
  const claims = claimAhead(
    db,
    () => {
      sizes.push(8);
      return 8;
    },
    60,
  );
  const seen = new Set<number>();
  for (let i = 0; i < 30; i++) {
    const delivery = await claims.next();
    assert.ok(delivery !== undefined);
    assert.ok(!seen.has(delivery.id), 'no delivery is handed out twice');
    seen.add(delivery.id);
    assert.match(delivery.email, /@example\.org$/);
  }
  const untaken = await claims.close();
  assert.ok(untaken.length > 0 && untaken.every((d) => !seen.has(d.id)));
  assert.equal(await claims.next(), undefined, 'a closed source hands out nothing more');
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM deliveries WHERE status = 'sending'`.execute(db);
  assert.equal(rows[0]!.n, seen.size + untaken.length, 'claimed rows are exactly those handed out or handed back');
  assert.ok(sizes.length >= 4, 'it claimed in several batches');
});

test('claims end when nothing is left', async () => {
  const { db } = database;
  await sql`UPDATE deliveries SET status = 'sent'`.execute(db);
  const claims = claimAhead(db, () => 8, 60);
  assert.equal(await claims.next(), undefined);
  assert.deepEqual(await claims.close(), []);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, serverUrl, type TestDatabase } from './helpers/db.js';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.close());

test(`migrations create the schema (${serverUrl ? 'Postgres server' : 'PGlite'})`, async () => {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(database.db);
  const names = tables.rows.map((r) => r.table_name);
  for (const table of ['categories', 'feeds', 'items', 'subscribers', 'subscriber_categories', 'editions', 'deliveries']) {
    assert.ok(names.includes(table), `missing table ${table}`);
  }
});

test('int8 values come back as numbers', async () => {
  const { rows } = await sql<{ n: number }>`select count(*) as n from items`.execute(database.db);
  assert.equal(rows[0]?.n, 0);
});

test(
  'a server connection closed by the server does not kill the process; the next query reconnects',
  { skip: serverUrl ? false : 'needs a Postgres server (TEST_DATABASE_URL)' },
  async () => {
    await Promise.all([sql`SELECT pg_sleep(0.05)`.execute(database.db), sql`SELECT pg_sleep(0.05)`.execute(database.db)]);
    const admin = new pg.Client({ connectionString: database.env.DATABASE_URL });
    await admin.connect();
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await admin.end();
    assert.ok(rows[0]!.n >= 2, 'the pool had idle connections to close');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await sql<{ x: number }>`SELECT 1 AS x`.execute(database.db);
    assert.equal(again.rows[0]?.x, 1);
  },
);

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
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

import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrationsDir } from '../../src/paths.js';
import { createTestDatabase } from '../helpers/db.js';

test('an up-to-date database is left alone; a new migration file is applied, and a missing one is still refused', async (t) => {
  const database = await createTestDatabase();
  const folder = await mkdtemp(path.join(os.tmpdir(), 'fd-migrations-'));
  t.after(async () => {
    await database.close();
    await rm(folder, { recursive: true, force: true });
  });
  await cp(migrationsDir, folder, { recursive: true });

  assert.deepEqual(await migrateToLatest(database.db, folder), { applied: [] });

  await writeFile(path.join(folder, '999_probe.sql'), 'CREATE TABLE migrate_probe (id int);');
  assert.deepEqual(await migrateToLatest(database.db, folder), { applied: ['999_probe'] });
  const { rows } = await sql<{ present: boolean }>`select to_regclass('migrate_probe') is not null as present`.execute(database.db);
  assert.equal(rows[0]?.present, true);
  assert.deepEqual(await migrateToLatest(database.db, folder), { applied: [] });

  await rm(path.join(folder, '999_probe.sql'));
  await assert.rejects(migrateToLatest(database.db, folder), /999_probe/);
});

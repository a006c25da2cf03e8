import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openEmbedded, type OpenDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrationsDir } from '../../src/paths.js';
import { createEmbeddedFolder } from '../helpers/db.js';

// The gate in front of pglite-socket, from clients' side: one session shared safely.
let dataDir: string;
let served: OpenDatabase;
const clients: pg.Client[] = [];

before(async () => {
  dataDir = await createEmbeddedFolder();
  served = await openEmbedded(dataDir, { serve: true, idleInTransactionMs: 300 });
});
after(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await served.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: served.socketDir, user: 'postgres', database: 'postgres' });
  c.on('error', () => undefined); // a client cut off by the gate
  await c.connect();
  clients.push(c);
  return c;
}

const names = async (pattern: string) =>
  (await served.db.selectFrom('categories').select('name').where('name', 'like', pattern).orderBy('name').execute()).map((r) => r.name);

test('the migrator runs through the socket, as every embedded command does on open', async () => {
  assert.deepEqual(await migrateToLatest(served.db), { applied: [] });
  // Up to date, kysely's Migrator is skipped; a new migration file makes it run, lock table and all.
  const folder = await mkdtemp(path.join(os.tmpdir(), 'fd-migrations-'));
  try {
    await cp(migrationsDir, folder, { recursive: true });
    await writeFile(path.join(folder, '999_socket_probe.sql'), 'CREATE TABLE socket_probe (id int);');
    assert.deepEqual(await migrateToLatest(served.db, folder), { applied: ['999_socket_probe'] });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test('a query split over socket reads is never interleaved with another client', async () => {
  const [big, small] = [await client(), await client()];
  const description = 'x'.repeat(3_000_000);
  const failures: string[] = [];
  await Promise.all([
    (async () => {
      for (let k = 0; k < 5; k++) {
        await big
          .query('insert into categories (name, title, description) values ($1, $2, $3)', [`big-${k}`, 'Big', description])
          .catch((error: Error) => failures.push(error.message.slice(0, 80)));
      }
    })(),
    (async () => {
      for (let k = 0; k < 200; k++) {
        const result = await small.query<{ v: number }>('select $1::int + 1 as v', [k]).catch((error: Error) => {
          failures.push(error.message.slice(0, 80));
          return undefined;
        });
        if (result && result.rows[0]?.v !== k + 1) failures.push(`wrong answer for ${k}`);
      }
    })(),
  ]);
  assert.deepEqual(failures, []);
  assert.equal((await names('big-%')).length, 5);
});

test('a transaction keeps the session to its client; one left open by a vanished client is rolled back', async () => {
  const [first, second] = [await client(), await client()];
  await first.query('begin');
  await first.query(`insert into categories (name, title) values ('inside', 'Inside')`);
  // Waits behind the open transaction, then must not see its row.
  const waiting = second.query<{ n: string }>(`select count(*) as n from categories where name = 'inside'`);
  void first.end();
  assert.equal((await waiting).rows[0]?.n, 0);
  assert.deepEqual(await names('inside'), []);
});

test('a client idle inside a transaction while others wait is cut off and its work rolled back', async () => {
  const [idle, busy] = [await client(), await client()];
  await idle.query('begin');
  await idle.query(`insert into categories (name, title) values ('idle', 'Idle')`);
  await busy.query(`insert into categories (name, title) values ('busy', 'Busy')`);
  await assert.rejects(idle.query('commit'));
  assert.deepEqual(await names('busy'), ['busy']);
  assert.deepEqual(await names('idle'), []);
});

test("turns count every client's go at the database, so an unchanged count means nothing ran", async () => {
  const turns = served.turns!;
  const before = turns();
  await names('turn-%');
  assert.equal(turns(), before + 1, 'one query, one turn');
  const other = await client();
  const connected = turns();
  await other.query('begin');
  await other.query("insert into categories (name, title) values ('turn-a', 'A')");
  await other.query('commit');
  assert.ok(turns() > connected, "another process's transaction takes a turn");
  assert.deepEqual(await names('turn-%'), ['turn-a']);
});

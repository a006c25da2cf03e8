import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openEmbedded, openServer, type OpenDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrationsDir } from '../../src/paths.js';
import { startCli } from './cli.js';

/**
 * A fresh, migrated database for one test file: a new database on the server named
 * by TEST_DATABASE_URL, else a PGlite folder copied from a migrated template
 * (making a PGlite folder from scratch costs seconds; copying one, milliseconds).
 */
export interface TestDatabase extends OpenDatabase {
  /** DATABASE_URL for child processes (server mode), or the DATA_DIR (embedded). */
  env: Record<string, string>;
}

export const serverUrl = process.env.TEST_DATABASE_URL || undefined;

export async function createTestDatabase(): Promise<TestDatabase> {
  return serverUrl !== undefined ? createServerDatabase(serverUrl) : createEmbeddedDatabase();
}

export async function createServerDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `fd_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const opened = openServer(url.toString(), 10);
  await migrateToLatest(opened.db);
  return {
    ...opened,
    env: { DATABASE_URL: url.toString() },
    close: async () => {
      await opened.close();
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

async function migrationsFingerprint(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await readdir(migrationsDir)).sort()) {
    hash.update(file).update(await readFile(path.join(migrationsDir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Built once per set of migrations and shared by every test process. Several processes
 * may build it at once (npm test runs files side by side): each builds its own folder
 * and renames it into place, which is atomic, so nobody ever copies a half-made template.
 */
async function embeddedTemplate(): Promise<string> {
  const template = path.join(os.tmpdir(), `feed-digest-template-${await migrationsFingerprint()}`);
  if (await exists(path.join(template, 'ready'))) return template;
  const building = `${template}.${process.pid}.${randomBytes(3).toString('hex')}`;
  const opened = await openEmbedded(building);
  await migrateToLatest(opened.db);
  await opened.close();
  await mkdir(path.join(building, 'ready'));
  // A folder without `ready` is what a killed build left behind.
  if (!(await exists(path.join(template, 'ready')))) await rm(template, { recursive: true, force: true });
  try {
    await rename(building, template);
  } catch (error) {
    // Another process got there first: theirs is as good as ours.
    if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await rm(building, { recursive: true, force: true });
  }
  return template;
}

/**
 * Copies a folder of plain files and folders. fs.cp is about four times slower on a PGlite
 * folder (1,055 files): it stats and checks every entry one by one, in JavaScript.
 */
async function copyFolder(from: string, to: string): Promise<void> {
  const entries = await readdir(from, { recursive: true, withFileTypes: true });
  const relative = (entry: (typeof entries)[number]) => path.relative(from, path.join(entry.parentPath, entry.name));
  await mkdir(to, { recursive: true });
  // readdir lists a folder before what it holds, so each parent exists when its children are made.
  for (const entry of entries) if (entry.isDirectory()) await mkdir(path.join(to, relative(entry)));
  await Promise.all(
    entries.filter((entry) => entry.isFile()).map((entry) => copyFile(path.join(from, relative(entry)), path.join(to, relative(entry)))),
  );
}

/**
 * A migrated PGlite data folder that nothing has open, for tests that start processes on
 * it: `into` (which must not exist yet), else a new temporary folder.
 */
export async function createEmbeddedFolder(into?: string): Promise<string> {
  const dataDir = into ?? (await mkdtemp(path.join(os.tmpdir(), 'feed-digest-test-')));
  await copyFolder(await embeddedTemplate(), dataDir);
  await rm(path.join(dataDir, 'ready'), { recursive: true, force: true });
  return dataDir;
}

export async function createEmbeddedDatabase(): Promise<TestDatabase> {
  const dataDir = await createEmbeddedFolder();
  const opened = await openEmbedded(dataDir);
  return {
    ...opened,
    env: { DATA_DIR: dataDir },
    close: async () => {
      await opened.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliDatabase {
  /** DATABASE_URL and SECRET, or DATA_DIR. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Where a CLI test's commands keep their data: a fresh database on the server named by
 * TEST_DATABASE_URL (which needs a SECRET), else a data folder in `work` copied from the
 * migrated template. Making the folder is the first command's job for an operator, and
 * costs it seconds of CPU (initdb): `demo` and the embedded `serve` test start
 * on an empty folder and prove that.
 *
 * `served`: one `feed-digest serve --no-scheduler` holds the embedded folder for the whole
 * test file and each command reaches it through serve's socket, as on an operator's
 * machine where serve runs. PGlite then starts once, not once a command (about a second
 * of CPU each). cli.test.ts opens the folder directly in every command; the files that
 * test what commands say and refuse use this.
 */
export async function cliDatabase(work: string, secret: string, options: { served?: boolean } = {}): Promise<CliDatabase> {
  if (serverUrl !== undefined) {
    const database = await createTestDatabase();
    return { env: { ...database.env, SECRET: secret }, close: () => database.close() };
  }
  const env = { DATA_DIR: await createEmbeddedFolder(path.join(work, 'data')) };
  if (!options.served) return { env, close: async () => undefined };
  const serve = startCli(['serve', '--no-scheduler'], { ...env, PORT: '0', LOG_LEVEL: 'info' });
  await serve.logged('feed-digest serving on');
  return {
    env,
    close: async () => {
      serve.child.kill('SIGTERM');
      const { code, stderr } = await serve.exited;
      if (code !== 0) throw new Error(`feed-digest serve did not stop cleanly (${code}):\n${stderr}`);
    },
  };
}

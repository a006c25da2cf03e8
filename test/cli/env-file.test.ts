import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';

/** `.env` in the working folder is read before the settings are checked; the environment wins. */
let work: string;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-env-'));
  await writeFile(path.join(work, '.env'), '# settings\nBASE_URL=ftp://from-dotenv.example.org\nFETCH_TIMEOUT_MS=soon\n');
});
after(() => rm(work, { recursive: true, force: true }));

test('settings in ./.env are read, and a variable set in the environment wins over the file', async () => {
  const fromFile = await runCli(['status'], {}, work);
  assert.equal(fromFile.code, 2, fromFile.stderr);
  assert.match(fromFile.stderr, /BASE_URL must start with http:\/\/ or https:\/\/ \(got ftp:\/\/\)/);
  assert.match(fromFile.stderr, /FETCH_TIMEOUT_MS=soon must be a whole number/);

  const overridden = await runCli(['status'], { FETCH_TIMEOUT_MS: '1000' }, work);
  assert.equal(overridden.code, 2, overridden.stderr);
  assert.match(overridden.stderr, /BASE_URL must start with/);
  assert.doesNotMatch(overridden.stderr, /FETCH_TIMEOUT_MS/);
});

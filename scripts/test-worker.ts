/**
 * One of `npm test`'s worker processes (see scripts/test.ts): takes the next test file from
 * the shared queue, runs it as a suite of its own, and takes another until none is left.
 * Taking is a rename out of the queue folder, which only one worker can win.
 */
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'node:test';
import { pathToFileURL } from 'node:url';

const queue = process.env.FD_TEST_QUEUE ?? '';
if (queue === '') throw new Error('FD_TEST_QUEUE is not set: scripts/test.ts starts the workers');

/** The compiled path and name of the next file nobody has taken, or undefined when all are taken. */
function take(): { file: string; name: string } | undefined {
  for (const entry of readdirSync(path.join(queue, 'waiting')).sort()) {
    const mine = path.join(queue, 'taken', `${entry}.${process.pid}`);
    try {
      renameSync(path.join(queue, 'waiting', entry), mine);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    return JSON.parse(readFileSync(mine, 'utf8')) as { file: string; name: string };
  }
  return undefined;
}

for (let next = take(); next !== undefined; next = take()) {
  const { file, name } = next;
  // A suite's hooks (a file's top-level before and after) run around its own tests only,
  // and awaiting it means the file has torn down before the next one starts.
  await describe(name, async () => {
    await import(pathToFileURL(file).href);
  });
}

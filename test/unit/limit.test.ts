import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBounded } from '../../src/own/run-bounded.js';

/** Work that finishes only when the test says so, recording how many run at once. */
function controlledWork() {
  const finishers = new Map<string, () => void>();
  const running = new Map<string, number>();
  let active = 0;
  let mostActive = 0;
  const mostPerKey = new Map<string, number>();
  const started: string[] = [];
  const work = (task: { id: string; host: string }) =>
    new Promise<string>((resolve) => {
      started.push(task.id);
      active++;
      mostActive = Math.max(mostActive, active);
      running.set(task.host, (running.get(task.host) ?? 0) + 1);
      mostPerKey.set(task.host, Math.max(mostPerKey.get(task.host) ?? 0, running.get(task.host)!));
      finishers.set(task.id, () => {
        active--;
        running.set(task.host, running.get(task.host)! - 1);
        resolve(`done ${task.id}`);
      });
    });
  const finish = async (id: string) => {
    const done = finishers.get(id);
    assert.ok(done, `${id} has started`);
    finishers.delete(id);
    done();
    // Let runBounded's then() run and start what it may.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { work, finish, started, stats: () => ({ mostActive, mostPerKey: Object.fromEntries(mostPerKey) }) };
}

const tasks = ['a1', 'a2', 'a3', 'b1', 'b2', 'c1'].map((id) => ({ id, host: id[0]! }));
const options = { total: 3, perKey: 2, keyOf: (task: { host: string }) => task.host };

test('at most `total` at once and `perKey` per host; a task of a busy host lets the next host go first', async () => {
  const control = controlledWork();
  const results = runBounded(tasks, options, control.work);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(control.started, ['a1', 'a2', 'b1'], 'a3 waits for its host, b1 takes the third slot');
  await control.finish('b1');
  assert.deepEqual(control.started, ['a1', 'a2', 'b1', 'b2']);
  await control.finish('a1');
  assert.deepEqual(control.started, ['a1', 'a2', 'b1', 'b2', 'a3']);
  for (const id of ['a2', 'b2', 'a3']) await control.finish(id);
  await control.finish('c1');
  assert.deepEqual(
    await results,
    tasks.map((task) => `done ${task.id}`),
    'results in the order of the tasks, not of finishing',
  );
  assert.deepEqual(control.stats(), { mostActive: 3, mostPerKey: { a: 2, b: 1, c: 1 } });
});

test('no tasks resolve at once with no results', async () => {
  assert.deepEqual(await runBounded([], options, () => Promise.reject(new Error('never called'))), []);
});

test('the first failure rejects the whole run', async () => {
  await assert.rejects(
    runBounded(tasks, options, (task) => (task.id === 'b1' ? Promise.reject(new Error('b1 broke')) : Promise.resolve(task.id))),
    /b1 broke/,
  );
});

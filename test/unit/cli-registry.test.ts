import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { commandModules, registerCommands } from '../../src/cli/registry.js';

test('each command module registers exactly the top-level names it is listed under', async () => {
  for (const module of commandModules) {
    const program = new Command();
    (await module.load())(program);
    assert.deepEqual(
      program.commands.map((command) => command.name()),
      module.names,
    );
  }
});

test('a named command loads its own module only; help and unknown names load them all', async () => {
  const categories = new Command();
  await registerCommands(categories, ['categories', 'list']);
  assert.deepEqual(
    categories.commands.map((command) => command.name()),
    ['categories'],
  );
  const all = commandModules.flatMap((module) => module.names);
  for (const args of [[], ['--help'], ['help', 'feeds'], ['categorys']]) {
    const program = new Command();
    await registerCommands(program, args);
    assert.deepEqual(
      program.commands.map((command) => command.name()),
      all,
    );
  }
});

#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { loadEnvFile } from '../config/env-file.js';
import { DataFolderBusyError } from '../db/connect.js';
import { CliProblem } from './output.js';
import { registerCommands } from './registry.js';

const program = new Command()
  .name('feed-digest')
  .description('Feeds in, one digest email per subscriber out. Settings come from the environment (see .env.example).')
  .showHelpAfterError()
  .exitOverride();

try {
  loadEnvFile();
  await registerCommands(program, process.argv.slice(2));
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof ConfigError) {
    console.error(`feed-digest: ${error.message}`);
    process.exitCode = 2;
  } else if (error instanceof CliProblem || error instanceof DataFolderBusyError) {
    console.error(`feed-digest: ${error.message}`);
    process.exitCode = 1;
  } else {
    console.error('feed-digest: unexpected error (a bug; please report it with this output):');
    console.error(error);
    process.exitCode = 70;
  }
}

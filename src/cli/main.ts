#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { loadEnvFile } from '../config/env-file.js';
import { DataFolderBusyError } from '../db/connect.js';
import { registerCategoryCommands } from './commands/categories.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDkimCommand } from './commands/dkim.js';
import { registerFeedCommands } from './commands/feeds.js';
import { registerInboundCommand } from './commands/inbound.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSiteCommands } from './commands/site.js';
import { registerSubscriberCommands } from './commands/subscribers.js';
import { CliProblem } from './output.js';

const program = new Command()
  .name('feed-digest')
  .description('Feeds in, one digest email per subscriber out. Settings come from the environment (see .env.example).')
  .showHelpAfterError()
  .exitOverride();

registerCategoryCommands(program);
registerFeedCommands(program);
registerSubscriberCommands(program);
registerJobCommands(program);
registerDemoCommand(program);
registerServeCommand(program);
registerSiteCommands(program);
registerDkimCommand(program);
registerInboundCommand(program);

try {
  loadEnvFile();
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

import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Each module of commands with the top-level names it registers. A command loads only
 * its own module, and with it only the libraries it uses (feed parsing, MJML, the web
 * server, the mail parser): importing them all cost every command about 0.4 s.
 */
export const commandModules: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ['categories'], load: async () => (await import('./commands/categories.js')).registerCategoryCommands },
  { names: ['feeds'], load: async () => (await import('./commands/feeds.js')).registerFeedCommands },
  { names: ['subscribers'], load: async () => (await import('./commands/subscribers.js')).registerSubscriberCommands },
  {
    names: ['migrate', 'fetch', 'send', 'run', 'preview', 'status'],
    load: async () => (await import('./commands/jobs.js')).registerJobCommands,
  },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemoCommand },
  { names: ['serve'], load: async () => (await import('./commands/serve.js')).registerServeCommand },
  { names: ['site'], load: async () => (await import('./commands/site.js')).registerSiteCommands },
  { names: ['dkim-record'], load: async () => (await import('./commands/dkim.js')).registerDkimCommand },
  { names: ['inbound'], load: async () => (await import('./commands/inbound.js')).registerInboundCommand },
];

/** Registers the module of the command named first in args, or every module (for help, or to suggest a misspelt name). */
export async function registerCommands(program: Command, args: string[]): Promise<void> {
  const named = commandModules.find((module) => module.names.includes(args[0] ?? ''));
  for (const module of named ? [named] : commandModules) (await module.load())(program);
}

import type { Command } from 'commander';
import { addFeed, enableFeed, listFeeds, removeFeed } from '../../feeds/store.js';
import { withContext } from '../context.js';
import { CliProblem, printRows, unwrap } from '../output.js';

export function registerFeedCommands(program: Command): void {
  const feeds = program.command('feeds').description('manage the feeds that digests are made of');

  feeds
    .command('add <url>')
    .description('add an RSS or Atom feed to a category')
    .requiredOption('--category <name>', 'the category it belongs to')
    .option('--title <title>', 'name shown in digests (default: the feed\'s own title)')
    .action((url: string, options: { category: string; title?: string }) =>
      withContext(async ({ db }) => {
        const feed = unwrap(await addFeed(db, { url, categoryName: options.category, title: options.title }));
        console.log(`Added ${feed.url} to ${options.category}; its current posts are stored, not mailed, on the first fetch.`);
      }),
    );

  feeds
    .command('list')
    .description('list feeds with their last fetch and error')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withContext(async ({ db }) => {
        printRows(await listFeeds(db), [
          { header: 'ID', value: (f) => f.id },
          { header: 'CATEGORY', value: (f) => f.category },
          { header: 'URL', value: (f) => f.url },
          { header: 'POSTS', value: (f) => f.items },
          { header: 'LAST FETCH', value: (f) => f.last_fetched_at },
          { header: 'STATUS', value: (f) => (f.disabled_at ? 'disabled' : f.last_status ?? 'new') },
          { header: 'ERROR', value: (f) => f.disabled_reason ?? f.last_error },
        ], options);
      }),
    );

  feeds
    .command('remove <urlOrId>')
    .description('remove a feed and its stored posts')
    .action((urlOrId: string) =>
      withContext(async ({ db }) => {
        if (!(await removeFeed(db, urlOrId))) throw new CliProblem(`no feed ${urlOrId}`);
        console.log(`Removed ${urlOrId}.`);
      }),
    );

  feeds
    .command('enable <urlOrId>')
    .description('re-enable a feed that was disabled after failures or a 410')
    .action((urlOrId: string) =>
      withContext(async ({ db }) => {
        if (!(await enableFeed(db, urlOrId))) throw new CliProblem(`no feed ${urlOrId}`);
        console.log(`Enabled ${urlOrId}; it is fetched on the next run.`);
      }),
    );
}

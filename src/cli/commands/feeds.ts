import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { feedAddressProblem } from '../../feeds/address.js';
import { exportOpml, importOpml } from '../../feeds/opml.js';
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
      withContext(async ({ db, config }) => {
        const refused = await feedAddressProblem(config, url.trim());
        if (refused !== undefined) throw new CliProblem(`cannot add ${url}: ${refused}`);
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

  feeds
    .command('import <file>')
    .description('add the feeds of an OPML file; folders (or category attributes) become categories')
    .option('--category <name>', 'category for feeds outside any folder', 'imported')
    .action((file: string, options: { category: string }) =>
      withContext(async ({ db, config }) => {
        const outcome = unwrap(await importOpml(db, await readFile(file, 'utf8'), options.category, (url) => feedAddressProblem(config, url)));
        console.log(`Added ${outcome.feedsAdded} feed${outcome.feedsAdded === 1 ? '' : 's'}${outcome.categoriesAdded.length > 0 ? ` and categories ${outcome.categoriesAdded.join(', ')}` : ''}.`);
        for (const { url, reason } of outcome.skipped) console.log(`  skipped ${url}: ${reason}`);
      }),
    );

  feeds
    .command('export [file]')
    .description('write every feed as OPML, grouped by category (to stdout without a file)')
    .action((file: string | undefined) =>
      withContext(async ({ db }) => {
        const opml = await exportOpml(db);
        if (file === undefined) process.stdout.write(opml);
        else await writeFile(file, opml);
      }),
    );
}

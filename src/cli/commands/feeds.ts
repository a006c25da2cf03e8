import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { feedAddressProblem } from '../../feeds/address.js';
import { exportOpml, importOpml } from '../../feeds/opml.js';
import { addFeedAt } from '../../feeds/add.js';
import { enableFeed, editFeed, listFeeds, removeFeed, setFeedHidden } from '../../feeds/store.js';
import { withContext } from '../context.js';
import { CliProblem, printRows, unwrap } from '../output.js';
import { registerRuleCommands } from './rules.js';

function parsePick(value: string): number {
  const pick = Number(value);
  if (!Number.isInteger(pick) || pick < 1) throw new CliProblem(`--pick takes a number from the list, got ${value}`);
  return pick;
}

export function registerFeedCommands(program: Command): void {
  const feeds = program.command('feeds').description('manage the feeds that digests are made of');

  feeds
    .command('add <url>')
    .description('add an RSS, Atom or JSON feed to a category, or the feed of a web page')
    .requiredOption('--category <name>', 'the category it belongs to')
    .option('--title <title>', "name shown in digests (default: the feed's own title)")
    .option('--pick <n>', 'which of the feeds a page names (when it names several)', parsePick)
    .option('--json', 'print the feeds a page names as JSON')
    .action((url: string, options: { category: string; title?: string; pick?: number; json?: boolean }) =>
      withContext(async ({ db, config }) => {
        const refused = await feedAddressProblem(config, url.trim());
        if (refused !== undefined) throw new CliProblem(`cannot add ${url}: ${refused}`);
        const outcome = unwrap(
          await addFeedAt(db, config, { url, categoryName: options.category, title: options.title, pick: options.pick }),
        );
        if (outcome.kind === 'choose') {
          printRows(
            outcome.candidates.map((c, i) => ({ n: i + 1, ...c })),
            [
              { header: 'N', value: (c) => c.n },
              { header: 'FORMAT', value: (c) => c.format },
              { header: 'TITLE', value: (c) => c.title },
              { header: 'URL', value: (c) => c.url },
            ],
            options,
          );
          throw new CliProblem(`${outcome.pageUrl} names ${outcome.candidates.length} feeds: add one with --pick N`);
        }
        const { feed } = outcome;
        if (outcome.via !== undefined) console.log(`Found ${feed.url} on ${feed.site_url}.`);
        if (outcome.note !== undefined) console.log(`Note: ${outcome.note}.`);
        console.log(`Added ${feed.url} to ${options.category}; its current posts are stored, not mailed, on the first fetch.`);
      }),
    );

  feeds
    .command('edit <urlOrId>')
    .description('change a feed in place; its posts and history stay')
    .option('--title <title>', "name shown in digests (empty: the feed's own title)")
    .option('--category <name>', 'move it to this category')
    .option('--url <url>', 'its new address')
    .option('--enable', 'fetch it again')
    .option('--disable', 'stop fetching it')
    .action((urlOrId: string, options: { title?: string; category?: string; url?: string; enable?: boolean; disable?: boolean }) =>
      withContext(async ({ db, config }) => {
        if (options.enable && options.disable) throw new CliProblem('give --enable or --disable, not both');
        const refused = options.url === undefined ? undefined : await feedAddressProblem(config, options.url.trim());
        if (refused !== undefined) throw new CliProblem(`cannot move it to ${options.url}: ${refused}`);
        const enabled = options.enable ? true : options.disable ? false : undefined;
        const feed = unwrap(
          await editFeed(db, urlOrId, { title: options.title, categoryName: options.category, url: options.url, enabled }),
        );
        console.log(`Changed feed ${feed.id} (${feed.url}).`);
      }),
    );

  feeds
    .command('list')
    .description('list feeds with their last fetch and error')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withContext(async ({ db }) => {
        printRows(
          await listFeeds(db),
          [
            { header: 'ID', value: (f) => f.id },
            { header: 'CATEGORY', value: (f) => f.category },
            { header: 'URL', value: (f) => f.url },
            { header: 'SITE', value: (f) => f.site_url },
            { header: 'POSTS', value: (f) => f.items },
            { header: 'LAST FETCH', value: (f) => f.last_fetched_at },
            { header: 'STATUS', value: (f) => (f.disabled_at ? 'disabled' : (f.last_status ?? 'new')) },
            { header: 'WEB', value: (f) => (f.hidden ? 'hidden' : 'shown') },
            { header: 'ERROR', value: (f) => f.disabled_reason ?? f.last_error },
          ],
          options,
        );
      }),
    );

  registerRuleCommands(feeds);

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

  for (const [command, hidden] of [
    ['hide', true],
    ['show', false],
  ] as const) {
    feeds
      .command(`${command} <urlOrId>`)
      .description(
        hidden
          ? 'leave a feed out of the public river, feeds and sources; it is still fetched and mailed'
          : 'put a hidden feed back on the public river, feeds and sources',
      )
      .action((urlOrId: string) =>
        withContext(async ({ db }) => {
          if (!(await setFeedHidden(db, urlOrId, hidden))) throw new CliProblem(`no feed ${urlOrId}`);
          console.log(
            hidden ? `Hid ${urlOrId} from the public web; it is still fetched and mailed.` : `${urlOrId} is on the public web again.`,
          );
        }),
      );
  }

  feeds
    .command('import <file>')
    .description('add the feeds of an OPML file; folders (or category attributes) become categories')
    .option('--category <name>', 'category for feeds outside any folder', 'imported')
    .action((file: string, options: { category: string }) =>
      withContext(async ({ db, config }) => {
        const outcome = unwrap(
          await importOpml(db, await readFile(file, 'utf8'), options.category, (url) => feedAddressProblem(config, url)),
        );
        console.log(
          `Added ${outcome.feedsAdded} feed${outcome.feedsAdded === 1 ? '' : 's'}${outcome.categoriesAdded.length > 0 ? ` and categories ${outcome.categoriesAdded.join(', ')}` : ''}.`,
        );
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

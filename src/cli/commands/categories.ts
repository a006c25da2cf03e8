import type { Command } from 'commander';
import { addCategory, CATEGORY_DISPLAYS, editCategory, listCategories, removeCategory } from '../../feeds/store.js';
import type { CategoryDisplay } from '../../db/schema.js';
import { withContext } from '../context.js';
import { CliProblem, printRows, unwrap } from '../output.js';

export function registerCategoryCommands(program: Command): void {
  const categories = program.command('categories').description('manage the categories feeds belong to');

  categories
    .command('add <name>')
    .description('add a category (lower-case name, e.g. thinktime)')
    .option('--title <title>', 'name shown to subscribers (default: the name)')
    .option('--description <text>', 'one line shown on the sign-up page')
    .action((name: string, options: { title?: string; description?: string }) =>
      withContext(async ({ db }) => {
        const category = unwrap(await addCategory(db, { name, title: options.title, description: options.description }));
        console.log(`Added category ${category.name}.`);
      }),
    );

  categories
    .command('edit <name>')
    .description('change a category: its title, description, whether it is on the public web, how its posts are shown')
    .option('--title <title>', 'name shown to readers')
    .option('--description <text>', 'one line shown on the web pages')
    .option('--public', 'show it on the river, feeds and archive (the default for new categories)')
    .option('--private', 'mail it to subscribers who chose it, but leave it off the public web')
    .option('--display <mode>', `how posts are shown in email and on the web: ${CATEGORY_DISPLAYS.join(', ')}`)
    .option('--source-cap <n>', 'at most this many posts of one source per email (1-100)')
    .option('--thumbnails <on|off>', 'show post pictures as thumbnails in the email')
    .action(
      (
        name: string,
        options: {
          title?: string;
          description?: string;
          public?: boolean;
          private?: boolean;
          display?: string;
          sourceCap?: string;
          thumbnails?: string;
        },
      ) =>
        withContext(async ({ db }) => {
          if (options.public && options.private) throw new CliProblem('give --public or --private, not both');
          if (options.thumbnails !== undefined && !['on', 'off'].includes(options.thumbnails))
            throw new CliProblem(`--thumbnails takes on or off (got ${options.thumbnails})`);
          const category = unwrap(
            await editCategory(db, name, {
              title: options.title,
              description: options.description,
              public: options.public ? true : options.private ? false : undefined,
              display: options.display as CategoryDisplay | undefined,
              sourceCap: options.sourceCap === undefined ? undefined : Number(options.sourceCap),
              thumbnails: options.thumbnails === undefined ? undefined : options.thumbnails === 'on',
            }),
          );
          console.log(
            `Category ${category.name}: ${category.public ? 'public' : 'private'}, shows ${category.display}, at most ${category.source_cap} posts per source, thumbnails ${category.thumbnails ? 'on' : 'off'}.`,
          );
        }),
    );

  categories
    .command('list')
    .description('list categories with their number of feeds')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withContext(async ({ db }) => {
        printRows(
          await listCategories(db),
          [
            { header: 'NAME', value: (c) => c.name },
            { header: 'TITLE', value: (c) => c.title },
            { header: 'FEEDS', value: (c) => c.feeds },
            { header: 'WEB', value: (c) => (c.public ? 'public' : 'private') },
            { header: 'DISPLAY', value: (c) => c.display },
            { header: 'DESCRIPTION', value: (c) => c.description },
          ],
          options,
        );
      }),
    );

  categories
    .command('remove <name>')
    .description('remove a category that has no feeds')
    .action((name: string) =>
      withContext(async ({ db }) => {
        unwrap(await removeCategory(db, name));
        console.log(`Removed category ${name}.`);
      }),
    );
}

import type { Command } from 'commander';
import { addCategory, listCategories, removeCategory } from '../../feeds/store.js';
import { withContext } from '../context.js';
import { printRows, unwrap } from '../output.js';

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
    .command('list')
    .description('list categories with their number of feeds')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withContext(async ({ db }) => {
        printRows(await listCategories(db), [
          { header: 'NAME', value: (c) => c.name },
          { header: 'TITLE', value: (c) => c.title },
          { header: 'FEEDS', value: (c) => c.feeds },
          { header: 'DESCRIPTION', value: (c) => c.description },
        ], options);
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

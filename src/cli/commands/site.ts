import path from 'node:path';
import type { Command } from 'commander';
import { buildStaticSite } from '../../web/site-build.js';
import { withContext } from '../context.js';
import { CliProblem } from '../output.js';

export function registerSiteCommands(program: Command): void {
  const site = program.command('site').description('the public planet as static files');

  site
    .command('build <dir>')
    .description(
      'write the river and its older pages, category pages, the archive and its editions, Atom and JSON feeds, sources and OPML into DIR, linked relatively, for any static host',
    )
    .option('--pages <n>', 'river pages written for the whole site and for each category', '10')
    .action((dir: string, options: { pages: string }) =>
      withContext(async ({ db, config }) => {
        const pages = Number(options.pages);
        if (!Number.isInteger(pages) || pages < 1 || pages > 10_000)
          throw new CliProblem(`--pages must be a whole number from 1 to 10000 (got ${options.pages})`);
        if (!config.planetPublic) throw new CliProblem('PLANET_PUBLIC=false: this digest is private, so there is no public site to build');
        const files = await buildStaticSite(db, config, path.resolve(dir), { pages, now: new Date() });
        console.log(
          `Wrote ${files.length} files to ${dir}; open ${path.join(dir, 'index.html')} in a browser, or upload the folder to a static host at ${config.baseUrl}.`,
        );
      }),
    );
}

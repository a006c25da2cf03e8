import { copyFile, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { templatesDir } from '../paths.js';
import { listPublicCategories, type RiverCursor } from '../planet/river.js';
import { staticFiles, staticLinker } from './links.js';
import { buildEdition, buildEditions, buildFeed, buildPublicOpml, buildRiver, buildSources, type Built } from './planet-build.js';
import type { PlanetSite } from './planet-pages.js';

export interface StaticSiteOptions {
  /** River pages written per river (the whole site, and each category). */
  pages: number;
  now: Date;
}

/**
 * The planet as static files in `dir`, for any static host, as Planet Venus writes
 * it: the river and each public category (their newest `pages` pages), their Atom and
 * JSON feeds and OPML, the sources page, and the archive with every edition it lists.
 * Pages link to each other relatively, so the folder reads the same from disk, from a
 * host's root or from any sub-path; only sign-up, which needs the server, links to
 * BASE_URL. A page left from an earlier build in `dir` (a category made private, an
 * older page no longer needed) is removed; other files there are kept (see MANIFEST).
 * Returns the files written, relative to `dir`.
 */
export async function buildStaticSite(db: Db, config: Config, dir: string, options: StaticSiteOptions): Promise<string[]> {
  const written: string[] = [];
  const siteFor = (file: string): PlanetSite => ({
    siteName: config.siteName,
    base: '',
    planet: true,
    links: staticLinker(file, config.baseUrl),
    timezone: config.siteTimezone,
  });
  const write = async (file: string, built: Built | undefined) => {
    if (built === undefined) return;
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), built.body);
    written.push(file);
  };
  const buildOptions = { pageSize: config.planetPageSize, baseUrl: config.baseUrl };

  const categories = await listPublicCategories(db);
  for (const category of [undefined, ...categories.map((c) => c.name)]) {
    let before: RiverCursor | undefined;
    for (let pageNumber = 1; pageNumber <= options.pages; pageNumber += 1) {
      const file = pageNumber === 1 ? staticFiles.river(category) : staticFiles.olderPage(category, pageNumber);
      // The last page written must not offer an "Older posts" link to a page that is not there.
      const site = siteFor(file);
      const river = await buildRiver(db, site, buildOptions, { category, before, pageNumber, lastPage: pageNumber === options.pages });
      if (river === undefined) break;
      await write(file, river);
      before = river.page.older;
      if (before === undefined) break;
    }
    for (const format of ['atom', 'json'] as const)
      await write(staticFiles.feed(format, category), await buildFeed(db, siteFor(''), buildOptions, format, category));
    await write(staticFiles.opml(category), await buildPublicOpml(db, siteFor(''), category));
  }
  await write(staticFiles.sources(), await buildSources(db, siteFor(staticFiles.sources()), options.now));
  await writeArchive(db, config, siteFor, write);
  for (const asset of ['style.css', 'icon.svg']) {
    await mkdir(path.join(dir, 'static'), { recursive: true });
    await copyFile(path.join(templatesDir, 'web', 'static', asset), path.join(dir, staticFiles.asset(asset)));
    written.push(staticFiles.asset(asset));
  }
  await removeLeftovers(dir, written);
  return written;
}

/**
 * The files the last build wrote, one per line: only those are ever removed, so a
 * folder shared with other files (a host's CNAME, a README) keeps them.
 */
const MANIFEST = '.feed-digest-site';

async function removeLeftovers(dir: string, written: string[]): Promise<void> {
  const previous = await readFile(path.join(dir, MANIFEST), 'utf8').catch(() => '');
  const now = new Set(written);
  const root = path.resolve(dir) + path.sep;
  for (const file of previous.split('\n')) {
    const target = path.resolve(dir, file);
    // An edited manifest must not reach outside the folder.
    if (file === '' || now.has(file) || !target.startsWith(root)) continue;
    await rm(target, { force: true });
    // A folder it leaves empty (a private category's c/<name>/) goes too; one holding anything stays.
    await rmdir(path.dirname(target)).catch(() => {});
  }
  await writeFile(path.join(dir, MANIFEST), `${written.join('\n')}\n`);
}

/** Every archive page, and the page of each edition they list (editions hold no personal data). */
async function writeArchive(
  db: Db,
  config: Config,
  siteFor: (file: string) => PlanetSite,
  write: (file: string, built: Built | undefined) => Promise<void>,
): Promise<void> {
  let beforeId: number | undefined;
  for (let pageNumber = 1; ; pageNumber += 1) {
    const file = staticFiles.editions(pageNumber);
    const archive = await buildEditions(db, siteFor(file), { beforeId, pageNumber });
    if (archive === undefined) return;
    await write(file, archive);
    for (const edition of archive.editions) {
      const page = staticFiles.edition(edition.key);
      await write(page, await buildEdition(db, siteFor(page), edition.key, config.digestLocale));
    }
    beforeId = archive.olderId;
    if (beforeId === undefined) return;
  }
}

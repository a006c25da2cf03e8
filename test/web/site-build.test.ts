import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../src/config/config.js';
import { editCategory } from '../../src/feeds/store.js';
import { buildStaticSite } from '../../src/web/site-build.js';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { checkContrast } from '../helpers/contrast.js';
import { seedPlanet } from './planet-fixture.js';

/** The export is served from a sub-path of another host: nothing may lean on the root. */
const BASE_URL = 'https://planet.example.org/digest';
const SHOTS = path.join(os.tmpdir(), 'feed-digest-site-shots');

let database: TestDatabase;
let dir: string;
let files: string[];
const keys = { a: 'A'.repeat(43), b: 'B'.repeat(43), staff: 'S'.repeat(43) };

before(async () => {
  database = await createTestDatabase();
  const { db } = database;
  const { categories } = await seedPlanet(db);
  const items = await db.selectFrom('items').select('id').orderBy('id').limit(4).execute();
  await db
    .insertInto('editions')
    .values([
      { key: keys.a, category_ids: [categories.thinktime!], item_ids: items.slice(0, 2).map((i) => i.id) },
      { key: keys.b, category_ids: [categories.thinktime!, categories.tech!], item_ids: items.slice(0, 3).map((i) => i.id) },
      { key: keys.staff, category_ids: [categories.thinktime!, categories.staff!], item_ids: items.map((i) => i.id) },
    ])
    .execute();
  dir = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-site-'));
  const config = loadConfig({ BASE_URL, SITE_NAME: 'Planet Digest', PLANET_PAGE_SIZE: '10', SITE_TIMEZONE: 'Australia/Sydney' });
  files = await buildStaticSite(db, config, dir, { pages: 100, now: new Date() });
});
after(async () => {
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

async function htmlFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.html')).map((e) => path.join(e.parentPath, e.name));
}

const isFile = (file: string) =>
  stat(file).then(
    (s) => s.isFile(),
    () => false,
  );

const idsOf = (html: string) => new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));

test('the export holds every page it links to: river and older pages, categories, archive, editions, feeds, sources, OPML', async () => {
  for (const file of [
    'index.html',
    'page2.html',
    'page5.html',
    'c/thinktime/index.html',
    'c/thinktime/page5.html',
    'c/tech/index.html',
    'editions/index.html',
    `editions/${keys.a}.html`,
    `editions/${keys.b}.html`,
    'feed.atom',
    'feed.json',
    'c/tech/feed.atom',
    'opml.xml',
    'sources/index.html',
    'static/style.css',
  ]) {
    assert.ok(files.includes(file), `${file} written`);
  }
  assert.ok(!files.includes('page6.html'), '49 posts make five pages of ten');
  assert.ok(!files.some((file) => file.includes(keys.staff) || file.startsWith('c/staff')), 'nothing private');

  const problems: string[] = [];
  let checked = 0;
  for (const file of await htmlFiles(dir)) {
    const html = await readFile(file, 'utf8');
    const from = path.relative(dir, file);
    for (const [, raw] of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const link = raw!.replace(/&amp;/g, '&');
      checked += 1;
      if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(link)) {
        // Sign-up needs the server; every other page of ours is in the folder.
        if (link.startsWith(BASE_URL) && link !== `${BASE_URL}/subscribe`) problems.push(`${from}: ${link} points at BASE_URL`);
        continue;
      }
      if (link.startsWith('/')) {
        problems.push(`${from}: ${link} is root-relative`);
        continue;
      }
      const [target, fragment] = link.split('#') as [string, string | undefined];
      if (target.includes('?')) problems.push(`${from}: ${link} has a query a static host ignores`);
      const resolved = target === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(target.split('?')[0]!));
      if (!resolved.startsWith(dir + path.sep) || !(await isFile(resolved))) {
        problems.push(`${from}: ${link} is not a file in the export`);
        continue;
      }
      if (fragment && resolved.endsWith('.html') && !idsOf(await readFile(resolved, 'utf8')).has(fragment))
        problems.push(`${from}: ${link} names no id there`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 500, `${checked} links checked`);

  const archive = await readFile(path.join(dir, 'editions/index.html'), 'utf8');
  assert.match(archive, new RegExp(`href="${keys.b}\\.html"`), 'a sibling is linked by its name');
  assert.match(await readFile(path.join(dir, 'page5.html'), 'utf8'), /href="page4\.html"|href="index\.html">Newest/);
  assert.doesNotMatch(await readFile(path.join(dir, 'page5.html'), 'utf8'), /rel="next">Older posts/);
  const edition = await readFile(path.join(dir, `editions/${keys.b}.html`), 'utf8');
  assert.match(edition, /href="\.\.\/static\/style\.css"/);
  assert.match(edition, /href="#c-tech"/);
  assert.match(edition, /Blueprints implemented in Nova during Juno/);
});

/** No horizontal scroll, and text that reads against its background, at one width and scheme. */
async function checkLooks(page: Page, name: string, width: number, scheme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme });
  await page.setViewportSize({ width, height: 900 });
  const layout = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  assert.ok(layout.scrollWidth <= layout.innerWidth, `${name} at ${width}px ${scheme}: ${layout.scrollWidth}px wide`);
  // A cell's words may wrap onto lines of their own (and at hyphens), but no word may break in two.
  const brokenCells = await page.locator('td, th').evaluateAll((cells) =>
    cells
      .filter((cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        const lines = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size;
        return lines > (cell.textContent ?? '').trim().split(/[\s-]+/).length;
      })
      .map((cell) => cell.textContent),
  );
  assert.deepEqual(brokenCells, [], `${name} at ${width}px ${scheme}: words broken in table cells`);
  const poor = await checkContrast(page);
  assert.deepEqual(poor, [], `${name} at ${width}px ${scheme}: text below 4.5:1`);
  await page.screenshot({ path: path.join(SHOTS, `${name}-${width}-${scheme}.png`), fullPage: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}-${width}-${scheme}-top.png`) });
}

test(
  'in Chromium over file://: Older posts, the archive and an edition open, and read well at 375 px dark and 1280 px light',
  { skip: browserSkipReason() },
  async () => {
    await mkdir(SHOTS, { recursive: true });
    let browser: Browser | undefined;
    try {
      browser = await launchBrowser();
      const context = await browser.newContext({ locale: 'en-AU' });
      // The posts' sites and pictures are on .example hosts: answered here, never on the network.
      await context.route(/^https:\/\/[^/]+\.example\//, (route) =>
        route.fulfill({ contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="2400" height="600"/>' }),
      );
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));

      await page.goto(pathToFileURL(path.join(dir, 'index.html')).href);
      for (const [width, scheme] of [
        [375, 'dark'],
        [1280, 'light'],
      ] as const)
        await checkLooks(page, 'river', width, scheme);
      await page.getByRole('link', { name: 'Older posts' }).click();
      await page.getByRole('heading', { level: 1, name: /page 2/ }).waitFor();
      assert.ok(page.url().endsWith('/page2.html'), page.url());
      await page.locator('.category-nav').getByRole('link', { name: 'Thinktime' }).click();
      await page.getByRole('heading', { level: 1, name: 'Thinktime' }).waitFor();

      await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Archive' }).click();
      await page.getByRole('heading', { level: 1, name: 'Archive' }).waitFor();
      assert.ok(page.url().endsWith('/editions/index.html'), page.url());
      for (const [width, scheme] of [
        [375, 'dark'],
        [1280, 'light'],
      ] as const)
        await checkLooks(page, 'archive', width, scheme);
      await page.locator('.edition-list a').first().click();
      await page.waitForURL(new RegExp(`/editions/${keys.b}\\.html$`));
      await page.getByRole('link', { name: 'Tech & Code' }).first().waitFor();
      for (const [width, scheme] of [
        [375, 'dark'],
        [1280, 'light'],
      ] as const)
        await checkLooks(page, 'edition', width, scheme);
      assert.deepEqual(errors, []);
    } finally {
      await browser?.close();
    }
  },
);

test('a rebuild removes the pages the previous build wrote that are no longer public, and keeps files that are not its own', async () => {
  const { db } = database;
  await writeFile(path.join(dir, 'CNAME'), 'planet.example.org\n');
  assert.ok(await isFile(path.join(dir, 'c', 'tech', 'index.html')));
  assert.ok(await isFile(path.join(dir, 'editions', `${keys.b}.html`)));
  const made = await editCategory(db, 'tech', { public: false });
  assert.ok(!('problem' in made));
  const config = loadConfig({ BASE_URL, SITE_NAME: 'Planet Digest', PLANET_PAGE_SIZE: '10', SITE_TIMEZONE: 'Australia/Sydney' });
  const rebuilt = await buildStaticSite(db, config, dir, { pages: 100, now: new Date() });
  assert.ok(!rebuilt.some((file) => file.startsWith('c/tech/')));
  assert.equal(await isFile(path.join(dir, 'c', 'tech', 'index.html')), false, 'the private category is gone');
  await assert.rejects(stat(path.join(dir, 'c', 'tech')), 'and its emptied folder');
  assert.equal(await isFile(path.join(dir, 'editions', `${keys.b}.html`)), false, 'an edition holding it is gone');
  assert.ok(await isFile(path.join(dir, 'CNAME')), 'a file the build did not write stays');
  for (const file of rebuilt) assert.ok(await isFile(path.join(dir, file)), file);
});

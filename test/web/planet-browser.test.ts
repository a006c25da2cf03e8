import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, SCREENSHOT_DIR } from '../helpers/browser.js';
import { startWeb, type WebHarness } from './harness.js';
import { seedPlanet } from './planet-fixture.js';

const WIDTHS = [375, 1280] as const;

/** A wide picture, served for the fixture's https://images.example/ addresses. */
const PICTURE = `<svg xmlns="http://www.w3.org/2000/svg" width="2400" height="600" viewBox="0 0 2400 600"><defs><linearGradient id="g"><stop offset="0" stop-color="#1d4ed8"/><stop offset="1" stop-color="#f59e0b"/></linearGradient></defs><rect width="2400" height="600" fill="url(#g)"/></svg>`;

interface Problems {
  errors: string[];
}

/** At each width: no horizontal scroll, headings in order, one h1; a screenshot of each. */
async function checkPage(page: Page, name: string): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      headings: Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).map((h) => Number(h.tagName[1])),
    }));
    assert.ok(layout.scrollWidth <= layout.innerWidth, `${name} at ${width}px: ${layout.scrollWidth}px wide`);
    assert.equal(layout.headings.filter((level) => level === 1).length, 1, `${name}: one h1`);
    assert.equal(layout.headings[0], 1, `${name}: starts with its h1`);
    layout.headings.forEach((level, index) => {
      if (index > 0) assert.ok(level <= layout.headings[index - 1]! + 1, `${name}: h${layout.headings[index - 1]} then h${level}`);
    });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `planet-${name}-${width}.png`), fullPage: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `planet-${name}-${width}-top.png`) });
  }
}

/** Tab from the top until an element matching `selector` has focus: it is reachable by keyboard. */
async function tabTo(page: Page, selector: string, maxTabs = 400): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.locator('body').focus();
  for (let n = 0; n < maxTabs; n += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  assert.fail(`${selector} not reached with the keyboard in ${maxTabs} tabs`);
}

async function walk(page: Page, web: WebHarness): Promise<void> {
  await page.goto(`${web.baseUrl}/`);
  await tabTo(page, '.skip-link', 1);
  await checkPage(page, 'river');
  await tabTo(page, 'a.nav-button');
  // The source of a post links to its site.
  assert.equal(await page.locator('#post-1 .post-source a').getAttribute('href'), 'https://planet-linux-australia.example/');

  // The feed links in the head and on the page answer with feeds.
  const alternates = await page.locator('link[rel="alternate"]').evaluateAll((links) => links.map((l) => (l as HTMLLinkElement).href));
  assert.equal(alternates.length, 2);
  for (const link of [
    ...alternates,
    await page
      .getByRole('link', { name: 'OPML', exact: true })
      .first()
      .evaluate((a) => (a as HTMLAnchorElement).href),
  ]) {
    const response = await page.request.get(link);
    assert.equal(response.status(), 200, link);
    assert.match(response.headers()['content-type'] ?? '', /atom|feed\+json|opml/);
  }

  await page.locator('.category-nav').getByRole('link', { name: 'Thinktime' }).click();
  await page.getByRole('heading', { level: 1, name: 'Thinktime' }).waitFor();
  await checkPage(page, 'category');
  await tabTo(page, 'a[rel="next"]');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: /page 2/ }).waitFor();
  await checkPage(page, 'category-older');

  await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Sources' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sources' }).waitFor();
  await checkPage(page, 'sources');

  await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Archive' }).click();
  await page.getByRole('heading', { level: 1, name: 'Archive' }).waitFor();
  await checkPage(page, 'archive');
  await tabTo(page, '.edition-list a');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/editions\/[A-Za-z0-9_-]{43}$/);
  await checkPage(page, 'edition');

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${web.baseUrl}/`);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'planet-river-dark-1280.png') });
  await page.setViewportSize({ width: 375, height: 900 });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'planet-river-dark-375.png') });
}

test(
  'in Chromium: the river, a category, an older page, sources, feeds, the archive and an edition at 375 and 1280 px',
  { skip: browserSkipReason() },
  async () => {
    const web = await startWeb({ env: { SITE_TIMEZONE: 'Australia/Sydney', PLANET_CACHE_SECONDS: '0' } });
    let browser: Browser | undefined;
    try {
      await seedPlanet(web.database.db);
      const { db } = web.database;
      const items = await db
        .selectFrom('items')
        .innerJoin('feeds', 'feeds.id', 'items.feed_id')
        .select(['items.id', 'feeds.category_id'])
        .where('feeds.hidden', '=', false)
        .orderBy('items.id')
        .limit(6)
        .execute();
      const publicIds = (await db.selectFrom('categories').select('id').where('public', '=', true).execute()).map((c) => c.id);
      const shown = items.filter((item) => publicIds.includes(item.category_id));
      await db
        .insertInto('editions')
        .values({ key: 'E'.repeat(43), category_ids: [...new Set(shown.map((i) => i.category_id))], item_ids: shown.map((i) => i.id) })
        .execute();
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      browser = await launchBrowser();
      const context = await browser.newContext({ viewport: { width: 375, height: 900 }, locale: 'en-AU' });
      // The fixture's sites and pictures live on .example hosts: answered here, never on the network.
      await context.route(/^https:\/\/images\.example\//, (route) => route.fulfill({ contentType: 'image/svg+xml', body: PICTURE }));
      await context.route(/^https:\/\/[^/]+\.example\//, (route) =>
        route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>elsewhere</title>' }),
      );
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const problems: Problems = { errors: [] };
      page.on('console', (message) => {
        if (message.type() === 'error') problems.errors.push(message.text());
      });
      page.on('pageerror', (error) => problems.errors.push(error.message));
      page.on('response', (response) => {
        if (response.status() >= 400) problems.errors.push(`${response.status()} ${response.url()}`);
      });
      await walk(page, web);
      assert.deepEqual(problems.errors, []);
    } finally {
      await browser?.close();
      await web.close();
    }
  },
);

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { sendDueDigests } from '../../src/jobs/send.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { browserSkipReason, launchBrowser, SCREENSHOT_DIR } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { createEmbeddedFolder } from '../helpers/db.js';
import { startWeb } from '../web/harness.js';
import { seedBusyDay } from '../digest/busy-day.js';

/**
 * The digest as a reader sees it: the demo's and a busy day's, at a phone's and a
 * desktop client's width, in light and dark, written to test-output/screenshots/.
 */
const skip = browserSkipReason();
const WIDTHS = { 375: 740, 800: 900 } as const;

let browser: Browser;
let work: string;
before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  work = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-screens-'));
});
after(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Pictures come from feeds' sites; offline, each is a plain tinted square. */
async function servePictures(page: Page): Promise<void> {
  await page.route(/^https:\/\/(?!digest\.example\.org)/, (route) =>
    route.fulfill({
      contentType: 'image/svg+xml',
      body: '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120"><rect width="160" height="120" fill="#7c9cbf"/><circle cx="50" cy="45" r="18" fill="#f4d35e"/></svg>',
    }),
  );
}

/** Screenshots of one digest at both widths in both schemes; returns where the first post starts, per width. */
async function screenshots(html: string, name: string): Promise<Record<number, number>> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const firstPost: Record<number, number> = {};
  for (const [width, height] of Object.entries(WIDTHS)) {
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: { width: Number(width), height }, colorScheme });
      await servePictures(page);
      await page.setContent(html, { waitUntil: 'load' });
      const file = path.join(SCREENSHOT_DIR, `digest-${name}-${width}-${colorScheme}`);
      await page.screenshot({ path: `${file}.png`, fullPage: true });
      // The first two screens, as a reader opening it sees them.
      await page.screenshot({ path: `${file}-top.png`, clip: { x: 0, y: 0, width: Number(width), height: 2 * height } });
      firstPost[Number(width)] = await page.evaluate(() => document.querySelector('h3')!.getBoundingClientRect().top);
      if (colorScheme === 'dark') {
        const [page_, heading] = await page.evaluate(() => [
          getComputedStyle(document.body).backgroundColor,
          getComputedStyle(document.querySelector('h3 a') ?? document.querySelector('h3')!).color,
        ]);
        assert.equal(page_, 'rgb(15, 18, 22)', 'a dark page in the dark scheme');
        assert.equal(heading, 'rgb(230, 233, 239)', 'light headings on it');
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${name} at ${width} px scrolls sideways by ${overflow} px`);
      await page.close();
    }
  }
  return firstPost;
}

test('screenshots of the demo digest', { skip }, async () => {
  // The demo's data folder, migrated already: making one is the CLI test's to prove.
  await createEmbeddedFolder(path.join(work, 'data'));
  const result = await runCli(['demo'], { PATH: process.env.PATH ?? '' }, work);
  assert.equal(result.code, 0, result.stderr);
  const name = (await readdir(path.join(work, 'outbox'))).find((n) => /^digest-\d+\.html$/.test(n))!;
  const html = await readFile(path.join(work, 'outbox', name), 'utf8');
  await screenshots(html, 'demo');
  await forcedDarkScreenshot(html, 'demo');
});

/**
 * Some clients darken a light message themselves, whatever it asks for (Chromium's and
 * Android's forced dark, Gmail's apps): the light scheme, darkened by the browser,
 * must still read. Chromium paints it so without changing computed styles: the
 * screenshot is there to be looked at; the test checks that nothing scrolls sideways.
 */
async function forcedDarkScreenshot(html: string, name: string): Promise<void> {
  const forced = await launchBrowser(['--enable-features=WebContentsForceDark', '--force-dark-mode']);
  try {
    const page = await forced.newPage({ viewport: { width: 375, height: 740 }, colorScheme: 'light' });
    await servePictures(page);
    await page.setContent(html, { waitUntil: 'load' });
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, `digest-${name}-375-forced-dark-top.png`),
      clip: { x: 0, y: 0, width: 375, height: 1480 },
    });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name} in forced dark scrolls sideways by ${overflow} px`);
  } finally {
    await forced.close();
  }
}

test('screenshots of a busy day and its web edition; on a phone the first post starts within two screens', { skip }, async () => {
  const harness = await startWeb();
  try {
    const { db } = harness.database;
    await db.insertInto('categories').values({ name: 'placeholder', title: 'Placeholder' }).execute();
    assert.ok('id' in (await addSubscriber(db, { email: 'reader@example.org', categoryNames: ['placeholder'] })));
    const names = await seedBusyDay(db);
    const subscriber = await db.selectFrom('subscribers').select('id').executeTakeFirstOrThrow();
    await db.deleteFrom('subscriber_categories').execute();
    const categories = await db.selectFrom('categories').select('id').where('name', 'in', names).execute();
    await db
      .insertInto('subscriber_categories')
      .values(categories.map((c) => ({ subscriber_id: subscriber.id, category_id: c.id })))
      .execute();
    assert.equal((await sendDueDigests(db, harness.config, harness.mailer)).delivered.sent, 1);
    const [mail] = await harness.sink.waitFor(1);
    const html = mail!.parsed.html || '';
    const firstPost = await screenshots(html, 'busy');
    assert.ok(firstPost[375]! < 2 * WIDTHS[375], `the first post starts at ${firstPost[375]} px on a phone`);

    const online = /<a href="([^"]+\/editions\/[\w-]{43})"/.exec(html)![1]!;
    for (const [width, height] of Object.entries(WIDTHS)) {
      const page = await browser.newPage({ viewport: { width: Number(width), height } });
      await servePictures(page);
      await page.goto(online, { waitUntil: 'load' });
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `edition-busy-${width}-top.png`) });
      await page.goto(`${online}#c-tech`, { waitUntil: 'load' });
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `edition-busy-${width}.png`) });
      assert.ok(
        await page.evaluate(() =>
          Array.from(document.images)
            .filter((img) => img.closest('#c-tech'))
            .every((img) => img.complete && img.naturalWidth > 0),
        ),
        'the pictures load',
      );
      const line = await page.evaluate(() => document.querySelector('.edition p:not(.hint)')!.getBoundingClientRect().width);
      assert.ok(line <= 44 * 16, `lines of ${line} px are too long to read`);
      await page.close();
    }
  } finally {
    await harness.close();
  }
});

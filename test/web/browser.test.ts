import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { sendDueDigests } from '../../src/jobs/send.js';
import { unsubscribeUrl } from '../../src/links/urls.js';
import { subscriberCategoryNames } from '../../src/subscribers/store.js';
import { browserSkipReason, launchBrowser, screenshotBothWidths, VIEWPORTS } from '../helpers/browser.js';
import { seedItem } from '../helpers/seed.js';
import { linkIn, seedCatalog, startWeb, type WebHarness } from './harness.js';

/**
 * The whole path in a real Chromium, one named step after another. Steps share the
 * walk's state; to test more along the way (a digest run after confirming, another
 * after changing categories, none after unsubscribing), insert a step where it belongs.
 */
interface Walk {
  harness: WebHarness;
  page: Page;
  email: string;
  subscriberId?: number;
  /** Text part of the last digest received, for its links. */
  lastDigest?: string;
  /** Script errors, CSP violations and failed stylesheets, scripts or icons: the pages must cause none. */
  pageErrors: string[];
}

/** A new post in each category, then a digest run at `now`: returns the digest mail, if any. */
async function newPostsThenDigestRun(walk: Walk, label: string, now: Date) {
  const { db } = walk.harness.database;
  const feeds = await db
    .selectFrom('feeds as f')
    .innerJoin('categories as c', 'c.id', 'f.category_id')
    .select(['f.id', 'c.name'])
    .execute();
  for (const feed of feeds) await seedItem(db, feed.id, { title: `${label} in ${feed.name} (${feed.id})` });
  const before = walk.harness.sink.received.length;
  const summary = await sendDueDigests(db, walk.harness.config, walk.harness.mailer, { now });
  if (summary.delivered.sent === 0) return undefined;
  return (await walk.harness.sink.waitFor(before + 1))[before]!;
}

async function subscriber(walk: Walk) {
  return walk.harness.database.db
    .selectFrom('subscribers')
    .selectAll()
    .where('email_normalized', '=', walk.email)
    .executeTakeFirstOrThrow();
}

const steps: Array<[string, (walk: Walk) => Promise<void>]> = [
  [
    'the home page points out a form sent without a category',
    async (walk) => {
      const { page, harness } = walk;
      await page.goto(`${harness.baseUrl}/subscribe`);
      // The little script filled in the browser's zone.
      assert.equal(await page.getByLabel('Time zone').inputValue(), 'Australia/Melbourne');
      await screenshotBothWidths(page, '01-home');
      await page.getByLabel('Email address').fill(walk.email);
      await page.getByRole('checkbox', { name: 'Thinktime' }).uncheck();
      await page.getByRole('checkbox', { name: 'Tech & Code' }).uncheck();
      await page.getByRole('button', { name: 'Subscribe' }).click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /Choose at least one category/);
      await screenshotBothWidths(page, '02-home-problem');
    },
  ],

  [
    'sign up in the form',
    async (walk) => {
      const { page } = walk;
      await page.getByRole('checkbox', { name: 'Thinktime' }).check();
      await page.getByRole('checkbox', { name: 'Tech & Code' }).check();
      await page.getByLabel('Delivery time').selectOption('6');
      await page.getByRole('button', { name: 'Subscribe' }).click();
      await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
      await screenshotBothWidths(page, '03-check-inbox');
      const row = await subscriber(walk);
      walk.subscriberId = row.id;
      assert.equal(row.status, 'pending');
    },
  ],

  [
    'open the link in the confirmation mail and confirm',
    async (walk) => {
      const { page, harness } = walk;
      const [mail] = await harness.sink.waitFor(1);
      assert.deepEqual(mail!.envelopeTo, [walk.email]);
      await page.goto(linkIn(mail!.parsed.text ?? '', 'confirm'));
      await page.getByRole('heading', { name: 'Confirm your subscription' }).waitFor();
      await screenshotBothWidths(page, '04-confirm');
      assert.equal((await subscriber(walk)).status, 'pending', 'opening the link changes nothing');
      await page.getByRole('button', { name: 'Confirm subscription' }).click();
      await page.getByRole('heading', { name: 'You are subscribed' }).waitFor();
      await screenshotBothWidths(page, '05-confirmed');
      const row = await subscriber(walk);
      assert.equal(row.status, 'active');
      assert.equal(row.timezone, 'Australia/Melbourne');
      assert.equal(row.delivery_hour, 6);
      assert.notEqual(row.items_cursor, null);
    },
  ],

  [
    'a digest run mails the new posts of both chosen categories',
    async (walk) => {
      const mail = await newPostsThenDigestRun(walk, 'First digest post', new Date());
      assert.ok(mail, 'a digest was sent');
      assert.deepEqual(mail.envelopeTo, [walk.email]);
      assert.match(mail.parsed.html || '', /First digest post in thinktime/);
      assert.match(mail.parsed.html || '', /First digest post in tech/);
      walk.lastDigest = mail.parsed.text ?? '';
    },
  ],

  [
    'open the preferences link of the digest and change categories',
    async (walk) => {
      const { page, harness } = walk;
      await page.goto(linkIn(walk.lastDigest!, 'preferences'));
      await page.getByRole('heading', { name: 'Your preferences' }).waitFor();
      await screenshotBothWidths(page, '06-preferences');
      await page.getByRole('checkbox', { name: 'Tech & Code' }).uncheck();
      await page.getByLabel('Once a week, on').check();
      await page.getByLabel('Day of the week').selectOption('5');
      await page.getByRole('button', { name: 'Save preferences' }).click();
      await page.getByText('Your choices are saved.').waitFor();
      await screenshotBothWidths(page, '07-preferences-saved');
      const row = await subscriber(walk);
      assert.deepEqual(await subscriberCategoryNames(harness.database.db, row.id), ['thinktime']);
      assert.equal(row.frequency, 'weekly');
      assert.equal(row.weekly_day, 5);
    },
  ],

  [
    'the next digest follows the new choices: weekly, thinktime only',
    async (walk) => {
      const nextWeek = new Date(Date.now() + 8 * 24 * 3600_000);
      const mail = await newPostsThenDigestRun(walk, 'Second digest post', nextWeek);
      assert.ok(mail, 'the weekly digest was sent');
      assert.match(mail.parsed.html || '', /Second digest post in thinktime/);
      assert.doesNotMatch(mail.parsed.html || '', /in tech/);
      assert.doesNotMatch(mail.parsed.html || '', /First digest post/, 'posts already mailed are not mailed again');
    },
  ],

  [
    'one-click unsubscribe with a plain HTTP POST, as a mail provider sends it',
    async (walk) => {
      const response = await fetch(unsubscribeUrl(walk.harness.config, walk.subscriberId!), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
        redirect: 'manual',
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('location'), null);
      assert.equal((await subscriber(walk)).status, 'unsubscribed');
    },
  ],

  [
    'after unsubscribing, the next digest run sends nothing',
    async (walk) => {
      const inTwoWeeks = new Date(Date.now() + 16 * 24 * 3600_000);
      assert.equal(await newPostsThenDigestRun(walk, 'After leaving', inTwoWeeks), undefined);
    },
  ],

  [
    'the unsubscribe link offers to resubscribe, and unsubscribes again',
    async (walk) => {
      const { page, harness } = walk;
      await page.goto(unsubscribeUrl(harness.config, walk.subscriberId!));
      await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
      await screenshotBothWidths(page, '08-unsubscribed');
      await page.getByRole('button', { name: 'Resubscribe' }).click();
      await page.getByText('Welcome back').waitFor();
      assert.equal((await subscriber(walk)).status, 'active');
      await page.goto(unsubscribeUrl(harness.config, walk.subscriberId!));
      await page.getByRole('heading', { name: 'Unsubscribe?' }).waitFor();
      await screenshotBothWidths(page, '09-unsubscribe');
      await page.getByRole('button', { name: 'Unsubscribe' }).click();
      await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
      assert.equal((await subscriber(walk)).status, 'unsubscribed');
    },
  ],

  [
    'a broken link gets the not-found page',
    async (walk) => {
      const { page, harness } = walk;
      const response = await page.goto(`${harness.baseUrl}/confirm/not-a-real-token`);
      assert.equal(response?.status(), 404);
      await screenshotBothWidths(page, '10-not-found');
    },
  ],
];

test('in Chromium: sign up, confirm, change preferences, one-click unsubscribe', { skip: browserSkipReason() }, async (t: TestContext) => {
  const harness = await startWeb();
  let browser: Browser | undefined;
  try {
    await seedCatalog(harness);
    browser = await launchBrowser();
    const context = await browser.newContext({ timezoneId: 'Australia/Melbourne', viewport: VIEWPORTS.phone, locale: 'en-AU' });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000); // a hang guard: a busy machine can take seconds per step
    const walk: Walk = { harness, page, email: 'reader@example.org', pageErrors: [] };
    // Pages answered 400 or 404 on purpose show up as console errors too: only other errors count.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) walk.pageErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'document' && response.status() >= 400)
        walk.pageErrors.push(`${response.status()} ${response.url()}`);
    });
    for (const [name, step] of steps) await t.test(name, () => step(walk));
    assert.deepEqual(walk.pageErrors, []);
  } finally {
    await browser?.close();
    await harness.close();
  }
});

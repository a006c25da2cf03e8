import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Digest } from '../../src/digest/model.js';
import { renderDigest } from '../../src/render/digest.js';
import { mjmlCompileCount } from '../../src/render/mjml.js';

const published = new Date('2026-12-01T20:30:00Z');
const digest = (timeZone: string, editionKey: string): Digest => ({
  editionId: 1,
  editionKey,
  timeZone,
  date: published,
  chosenCategories: ['News'],
  postCount: 1,
  categories: [
    {
      name: 'news',
      title: 'News',
      display: 'excerpt',
      sourceCap: 3,
      thumbnails: true,
      postCount: 1,
      sources: [
        {
          feedId: 1,
          title: 'Wire',
          siteUrl: null,
          postCount: 1,
          posts: [
            {
              id: 7,
              title: 'Late news',
              url: 'https://example.org/7',
              author: null,
              date: published,
              excerpt: 'Text.',
              contentHtml: null,
              image: null,
              enclosures: [],
            },
          ],
        },
      ],
    },
  ],
});
const context = (onlineUrl: string) => ({
  siteName: 'Planet',
  baseUrl: 'https://digest.example.org',
  onlineUrl,
  now: published,
  locale: 'en-GB',
});

test("editions that differ only in their readers' zone are compiled once, each with its own dates and web address", async () => {
  const before = mjmlCompileCount();
  const melbourne = await renderDigest(digest('Australia/Melbourne', 'a'), context('https://digest.example.org/editions/melbourne'));
  const newYork = await renderDigest(digest('America/New_York', 'b'), context('https://digest.example.org/editions/new-york'));
  assert.equal(mjmlCompileCount() - before, 1);
  assert.match(melbourne.text, /^Wednesday, 2 December 2026$/m);
  assert.match(melbourne.text, /2 Dec, 07:30/);
  assert.match(newYork.text, /^Tuesday, 1 December 2026$/m);
  assert.match(newYork.text, /1 Dec, 15:30/);
  assert.match(melbourne.html, /href="https:\/\/digest\.example\.org\/editions\/melbourne"/);
  assert.match(newYork.html, /href="https:\/\/digest\.example\.org\/editions\/new-york"/);
  for (const body of [melbourne.html, melbourne.text, newYork.html, newYork.text]) assert.doesNotMatch(body, /FD-DATE-|fd-online-/);
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { demoFeeds } from '../../src/demo/content.js';
import { startDemoFeedServer, type DemoFeedServer } from '../../src/demo/server.js';
import { ingestFeed } from '../../src/feeds/pipeline.js';
import { runCli } from '../helpers/cli.js';
import { cliDatabase, type CliDatabase } from '../helpers/db.js';

/** The planet's admin commands and the static export, as an operator runs them. */
let work: string;
let env: Record<string, string>;
let database: CliDatabase;
let feeds: DemoFeedServer;

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-planet-cli-'));
  feeds = await startDemoFeedServer(new Date());
  database = await cliDatabase(work, 'cli-test-secret-'.padEnd(48, 'z'), { served: true });
  env = {
    ...database.env,
    OUTBOX_DIR: path.join(work, 'outbox'),
    BASE_URL: 'https://planet.example.org',
    SITE_NAME: 'Planet Example',
    FETCH_ALLOW_PRIVATE: '127.0.0.1',
  };
});

after(async () => {
  await feeds.close();
  await database.close();
  await rm(work, { recursive: true, force: true });
});

async function ok(args: string[]) {
  const result = await runCli(args, env);
  assert.equal(result.code, 0, `feed-digest ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

test('categories edit, feeds hide and show, and site build', async () => {
  await ok(['migrate']);
  await ok(['categories', 'add', 'thinktime', '--title', 'Thinktime']);
  await ok(['categories', 'add', 'releases']);
  for (const feed of demoFeeds) await ok(['feeds', 'add', feeds.urlOf(feed), '--category', feed.category]);
  await ok(['fetch']);

  assert.match(
    await ok([
      'categories',
      'edit',
      'thinktime',
      '--display',
      'full',
      '--description',
      'Essays',
      '--source-cap',
      '5',
      '--thumbnails',
      'off',
    ]),
    /thinktime: public, shows full, at most 5 posts per source, thumbnails off/,
  );
  assert.match(await ok(['categories', 'edit', 'releases', '--private']), /releases: private/);
  const categories = JSON.parse(await ok(['categories', 'list', '--json'])) as Array<{
    name: string;
    public: boolean;
    display: string;
    description: string;
  }>;
  assert.deepEqual(
    categories.map((c) => [c.name, c.public, c.display, c.description]),
    [
      ['releases', false, 'excerpt', ''],
      ['thinktime', true, 'full', 'Essays'],
    ],
  );
  for (const [args, message] of [
    [['categories', 'edit', 'thinktime', '--display', 'everything'], /display must be one of titles, excerpt, full/],
    [['categories', 'edit', 'thinktime', '--public', '--private'], /not both/],
    [['categories', 'edit', 'nope', '--public'], /no category nope/],
    [['categories', 'edit', 'thinktime'], /nothing to change/],
    [['feeds', 'hide', 'https://nowhere.example/feed'], /no feed/],
  ] as const) {
    const result = await runCli([...args], env);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(result.stderr, message);
  }

  const seth = demoFeeds.find((f) => f.slug === 'seth-godin')!;
  await ok(['feeds', 'hide', feeds.urlOf(seth)]);
  const listed = JSON.parse(await ok(['feeds', 'list', '--json'])) as Array<{ url: string; hidden: boolean }>;
  assert.equal(listed.find((f) => f.url === feeds.urlOf(seth))?.hidden, true);

  const site = path.join(work, 'site');
  assert.match(await ok(['site', 'build', site]), /Wrote \d+ files/);
  for (const file of [
    'index.html',
    'c/thinktime/index.html',
    'feed.atom',
    'feed.json',
    'c/thinktime/feed.atom',
    'c/thinktime/feed.json',
    'opml.xml',
    'c/thinktime/opml.xml',
    'sources/index.html',
    'editions/index.html',
    'static/style.css',
    'static/icon.svg',
  ]) {
    assert.ok(await exists(path.join(site, file)), file);
  }
  assert.ok(!(await exists(path.join(site, 'c/releases'))), 'a private category is not exported');
  const index = await readFile(path.join(site, 'index.html'), 'utf8');
  assert.match(index, /href="static\/style\.css"/);
  assert.match(index, /href="c\/thinktime\/index\.html"/);
  assert.match(index, /href="sources\/index\.html"/);
  assert.match(index, /href="https:\/\/planet\.example\.org\/subscribe"/, 'sign-up is on the server');
  assert.match(index, /href="editions\/index\.html"/, 'the archive is in the folder');
  assert.match(index, /Blueprints implemented in Nova/);
  assert.doesNotMatch(index, /Wishing vs\. doing|PostgreSQL 18/, 'no hidden feed, no private category');
  const category = await readFile(path.join(site, 'c/thinktime/index.html'), 'utf8');
  assert.match(category, /href="\.\.\/\.\.\/static\/style\.css"/);
  assert.match(category, /href="\.\.\/\.\.\/index\.html"/);
  const atom = await readFile(path.join(site, 'feed.atom'));
  assert.match(atom.toString(), /<link rel="self" type="application\/atom\+xml" href="https:\/\/planet\.example\.org\/feed\.atom"\/>/);
  const parsed = await ingestFeed(atom, 'application/atom+xml', 'https://planet.example.org/feed.atom', { maxItems: 500, now: new Date() });
  assert.equal(parsed.kind, 'ingested');

  await ok(['feeds', 'show', feeds.urlOf(seth)]);
  await ok(['site', 'build', site]);
  assert.match(await readFile(path.join(site, 'index.html'), 'utf8'), /Wishing vs\. doing/);

  const closed = await runCli(['site', 'build', site], { ...env, PLANET_PUBLIC: 'false' });
  assert.equal(closed.code, 1);
  assert.match(closed.stderr, /PLANET_PUBLIC=false/);
});

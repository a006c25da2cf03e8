import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { corpusConfig, corpusDir, formatReport, loadCorpus, runCorpus, summarize } from '../../scripts/corpus-report.js';
import { refreshFeeds } from '../../src/feeds/refresh.js';
import { addCategory, addFeed } from '../../src/feeds/store.js';
import { createTestDatabase } from '../helpers/db.js';

const present = existsSync(corpusDir);
if (!present) console.log(`# corpus test skipped: ${corpusDir} is absent`);

test(
  'every corpus file is ingested or rejected with a reason, nothing executable survives, expected values match',
  { skip: present ? false : `${corpusDir} is absent` },
  async () => {
    const results = await runCorpus();
    const groups = summarize(results);
    console.log(
      formatReport(groups)
        .split('\n')
        .map((line) => `# ${line}`)
        .join('\n'),
    );
    assert.equal(results.length, loadCorpus().length);
    for (const result of results) assert.match(result.outcome, /^(ingested with \d+ posts|rejected: .+)$/, result.path);

    const sanitize = results.filter((r) => r.path.startsWith('feedparser/wellformed/sanitize/'));
    assert.equal(sanitize.length, 745);
    assert.deepEqual(
      sanitize.filter((r) => r.executable.length > 0).map((r) => `${r.path}: ${r.executable.join(', ')}`),
      [],
    );
    assert.deepEqual(
      results.filter((r) => r.executable.length > 0).map((r) => r.path),
      [],
    );

    const byGroup = new Map(groups.map((g) => [g.group, g]));
    // Every well-formed RSS/Atom/RDF file is ingested (CDF channels are not RSS or Atom).
    const wellformed = results.filter((r) => r.path.startsWith('feedparser/wellformed/') && !r.outcome.endsWith('CDF channel'));
    assert.deepEqual(
      wellformed.filter((r) => !r.ingested).map((r) => `${r.path}: ${r.outcome}`),
      [],
    );
    for (const group of ['rss-parser', 'feed-rs', 'node-feedparser', 'feedparser/wellformed']) {
      const { matched } = byGroup.get(group)!;
      const titles = matched.postTitle.matched + matched.feedTitle.matched;
      const titleTotal = matched.postTitle.total + matched.feedTitle.total;
      assert.ok(titles / titleTotal >= (group === 'feedparser/wellformed' ? 0.9 : 0.95), `${group} titles ${titles}/${titleTotal}`);
    }
    for (const group of ['rss-parser', 'feed-rs']) {
      const { postLink } = byGroup.get(group)!.matched;
      assert.ok(postLink.matched / postLink.total >= 0.95, `${group} links ${postLink.matched}/${postLink.total}`);
    }
    // Non-feeds are rejected with a clear reason.
    const reason = (file: string) => results.find((r) => r.path === file)?.outcome;
    assert.equal(reason('node-feedparser/notafeed.html'), 'rejected: not a feed: HTML page');
    assert.equal(reason('node-feedparser/invalid-characters-gzipped.xml'), 'rejected: not a feed: gzip bytes');
    // JSON Feed is a feed like the others.
    assert.equal(reason('feedparser/json/example.json'), 'ingested with 2 posts');
    assert.equal(reason('feed-rs/jsonfeed/jsonfeed_spec_1.json'), 'ingested with 1 posts');
  },
);

test(
  'a sample of the corpus goes through refreshFeeds into the database, each feed recorded',
  { skip: present ? false : `${corpusDir} is absent` },
  async () => {
    const sample = loadCorpus().filter((_, i) => i % 45 === 0);
    const server = createServer((req, res) => {
      const file = sample.find((f) => `/${f.path}` === decodeURIComponent(req.url ?? ''));
      if (file === undefined) return void res.writeHead(404).end();
      res.writeHead(200, file.headers).end(readFileSync(path.join(corpusDir, file.path)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const database = await createTestDatabase();
    try {
      await addCategory(database.db, { name: 'corpus' });
      for (const file of sample) await addFeed(database.db, { url: `${origin}/${file.path}`, categoryName: 'corpus' });
      const summary = await refreshFeeds(database.db, { ...corpusConfig(), fetchPerHost: 4 }, {});
      assert.equal(summary.feeds, sample.length);
      assert.equal(summary.ok + summary.failed, sample.length);
      const feeds = await database.db.selectFrom('feeds').selectAll().execute();
      for (const feed of feeds) {
        assert.ok(feed.last_status === 'ok' || (feed.last_status === 'error' && feed.last_error !== null), feed.url);
      }
      const items = await database.db.selectFrom('items').select(database.db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(items.n, summary.newItems);
      assert.ok(summary.newItems > 0);
    } finally {
      await database.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    }
  },
);

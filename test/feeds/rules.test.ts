import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import type { Feed } from '../../src/db/schema.js';
import { pendingItemIdsFor } from '../../src/digest/plan.js';
import { refreshFeed } from '../../src/feeds/refresh.js';
import { addRule, checkRule, listRules, removeRule, testRules, type RuleInput } from '../../src/feeds/rules.js';
import { addCategory, addFeed } from '../../src/feeds/store.js';
import { isProblem } from '../../src/problem.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startServer, type TestServer } from './server.js';

const config = loadConfig({ BASE_URL: 'https://digest.example.org', FETCH_TIMEOUT_MS: '5000', FETCH_ALLOW_PRIVATE: '127.0.0.1' });
const LONG_TITLE = `${'a'.repeat(5000)}b`;

interface Post {
  guid: string;
  title: string;
  category?: string;
  author?: string;
  body?: string;
}

function rss(posts: Post[]): string {
  const date = new Date().toUTCString();
  return `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Rules</title><link>http://example.com/</link>${posts
    .map(
      (p) =>
        `<item><guid>${p.guid}</guid><title>${p.title}</title><link>http://example.com/${p.guid}</link><pubDate>${date}</pubDate>${p.category ? `<category>${p.category}</category>` : ''}${p.author ? `<dc:creator>${p.author}</dc:creator>` : ''}<description><![CDATA[${p.body ?? 'Body'}]]></description></item>`,
    )
    .join('')}</channel></rss>`;
}

const bodies = new Map<string, string>();
let server: TestServer;
let database: TestDatabase;
let subscriberId: number;

before(async () => {
  server = await startServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(body);
  });
  database = await createTestDatabase();
  await addCategory(database.db, { name: 'news' });
  const subscriber = await addSubscriber(database.db, { email: 'ada@example.org', categoryNames: ['news'] });
  assert.ok(!isProblem(subscriber));
  subscriberId = subscriber.id;
});
after(async () => {
  await server.close();
  await database.close();
});

async function feedAt(path: string, posts: Post[]): Promise<Feed> {
  bodies.set(path, rss(posts));
  const feed = await addFeed(database.db, { url: server.url(path), categoryName: 'news' });
  assert.ok(!isProblem(feed));
  return feed;
}

const rule = (fields: Partial<RuleInput> & Pick<RuleInput, 'pattern'>): RuleInput => ({
  feedId: null,
  action: 'block',
  field: 'title',
  kind: 'word',
  ...fields,
});

test('regular expressions that can backtrack catastrophically, or do not compile, are refused when saved', async () => {
  for (const pattern of ['(a+)+$', '(x*)*y', '([a-z]+)*$', '(a)\\1', '(?<x>a)\\k<x>']) {
    const problem = checkRule(rule({ kind: 'regex', pattern }));
    assert.ok(problem !== undefined, pattern);
    assert.ok(isProblem(await addRule(database.db, rule({ kind: 'regex', pattern }))), pattern);
  }
  assert.match(checkRule(rule({ kind: 'regex', pattern: '(unclosed' })) ?? '', /not a valid regular expression/);
  assert.equal(checkRule(rule({ kind: 'regex', pattern: '^\\[ad\\]|sponsor(ed)?' })), undefined);
  assert.equal((await listRules(database.db)).length, 0);
});

test('block and keep rules, per feed and site-wide, on title, content, author, category and URL: filtered posts are stored, marked and never mailed', async () => {
  const feed = await feedAt('/mixed.xml', [
    { guid: 'p1', title: 'Rust 2.0 released', category: 'Rust' },
    { guid: 'p2', title: 'A sponsored post about Rust', category: 'rust' },
    { guid: 'p3', title: 'Cooking with Go', category: 'go' },
    { guid: 'p4', title: 'Rust internals', category: 'Rust', author: 'Spam Bot' },
    { guid: 'p5', title: 'Rust weekly', category: 'Rust', body: '<p>This week: <b>Crypto</b> giveaway</p>' },
    { guid: 'p6', title: 'Rustacean news', category: 'Rust' },
  ]);
  const other = await feedAt('/other.xml', [
    { guid: 'o1', title: 'Unrelated sponsored thing' },
    { guid: 'o2', title: 'Plain news' },
  ]);
  const added = [
    await addRule(database.db, rule({ pattern: 'Sponsored' })), // site-wide, any case, whole word
    await addRule(database.db, rule({ feedId: feed.id, action: 'keep', field: 'category', pattern: 'rust' })),
    await addRule(database.db, rule({ feedId: feed.id, field: 'author', kind: 'regex', pattern: '^spam\\b' })),
    await addRule(database.db, rule({ feedId: feed.id, field: 'content', pattern: 'crypto giveaway' })),
    await addRule(database.db, rule({ feedId: feed.id, field: 'url', kind: 'regex', pattern: 'p6$' })),
  ];
  assert.ok(added.every((r) => !isProblem(r)));
  for (const f of [feed, other]) assert.equal((await refreshFeed(database.db, config, f)).status, 'ok');

  const rows = await database.db.selectFrom('items').select(['id', 'guid', 'filtered_by']).orderBy('guid').execute();
  const verdicts = Object.fromEntries(rows.map((r) => [r.guid, r.filtered_by]));
  assert.deepEqual(verdicts, {
    o1: `rule ${(added[0] as { id: number }).id}: block title "Sponsored"`,
    o2: null,
    p1: null,
    p2: `rule ${(added[0] as { id: number }).id}: block title "Sponsored"`,
    p3: `no keep rule matched (${(added[1] as { id: number }).id})`,
    p4: `rule ${(added[2] as { id: number }).id}: block author /^spam\\b/`,
    p5: `rule ${(added[3] as { id: number }).id}: block content "crypto giveaway"`,
    p6: `rule ${(added[4] as { id: number }).id}: block url /p6$/`,
  });
  const mailed = await pendingItemIdsFor(database.db, subscriberId);
  const idOf = (guid: string) => rows.find((r) => r.guid === guid)!.id;
  assert.deepEqual(
    mailed.sort((a, b) => a - b),
    [idOf('o2'), idOf('p1')].sort((a, b) => a - b),
  );

  // Trying rules first: which of the last posts each rule keeps or drops.
  const tried = await testRules(database.db, { feedId: feed.id, last: 10 });
  assert.equal(tried.length, 6);
  const p3 = tried.find((row) => row.title === 'Cooking with Go')!;
  assert.equal(p3.verdict, 'dropped');
  assert.deepEqual(
    p3.rules.map((r) => r.matches),
    [false, false, false, false, false],
  );
  assert.equal(tried.find((row) => row.title === 'Rust 2.0 released')?.verdict, 'kept');

  for (const r of added) assert.ok(await removeRule(database.db, (r as { id: number }).id));
  assert.ok(!(await removeRule(database.db, 999_999)));
});

test(
  "a pathological regex saved behind the checker's back never stalls a fetch, and rules read bounded input",
  { timeout: 120_000 },
  async () => {
    const feed = await feedAt('/long.xml', [
      { guid: 'l1', title: LONG_TITLE },
      { guid: 'l2', title: 'short' },
    ]);
    // As if written by hand in SQL: the fetch must still finish.
    await database.db
      .insertInto('filter_rules')
      .values({ feed_id: feed.id, action: 'block', field: 'title', kind: 'regex', pattern: '(a+)+$' })
      .execute();
    const accepted = await addRule(database.db, rule({ feedId: feed.id, kind: 'regex', pattern: 'a{3}b$' }));
    assert.ok(!isProblem(accepted));
    const outcome = await refreshFeed(database.db, config, feed);
    assert.equal(outcome.status, 'ok', outcome.message);
    const rows = await database.db
      .selectFrom('items')
      .select(['guid', 'filtered_by'])
      .where('feed_id', '=', feed.id)
      .orderBy('guid')
      .execute();
    // The title's last character lies past what a rule reads: nothing matches.
    assert.deepEqual(rows, [
      { guid: 'l1', filtered_by: null },
      { guid: 'l2', filtered_by: null },
    ]);
  },
);

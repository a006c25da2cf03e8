/**
 * The web bench's server, in a process of its own so that the load generator does not
 * share its event loop: a fresh database (PGlite, or a new database on DATABASE_URL)
 * with `--posts` posts in 100 feeds, then `serve`'s web server on 127.0.0.1. Prints one
 * JSON line ({ port, seedSeconds, buildMs }) when ready; exits when stdin closes.
 */
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import type { Db } from '../../src/db/connect.js';
import { createOutboxMailer } from '../../src/mail/transport.js';
import { buildFeed, buildRiver } from '../../src/web/planet-build.js';
import { serverLinker } from '../../src/web/links.js';
import { buildWebServer } from '../../src/web/server.js';
import { createEmbeddedDatabase, createServerDatabase, type TestDatabase } from '../../test/helpers/db.js';

const { values } = parseArgs({ options: { posts: { type: 'string', default: '100000' }, backend: { type: 'string', default: 'pglite' } } });
const posts = Number(values.posts);
const SECRET = 'web-bench-secret-'.padEnd(48, 'x');
const FEEDS = 100;
const BATCH = 20_000;

/** Setup, not measured: three public categories (full, excerpt, titles) and one private, posts in bulk. */
async function seed(db: Db): Promise<void> {
  const categories = [
    { name: 'thinktime', title: 'Thinktime', display: 'full' as const, public: true },
    { name: 'tech', title: 'Tech', display: 'excerpt' as const, public: true },
    { name: 'releases', title: 'Releases', display: 'titles' as const, public: true },
    { name: 'staff', title: 'Staff', display: 'full' as const, public: false },
  ];
  const ids: number[] = [];
  for (const category of categories)
    ids.push((await db.insertInto('categories').values(category).returning('id').executeTakeFirstOrThrow()).id);
  await db
    .insertInto('feeds')
    .values(
      Array.from({ length: FEEDS }, (_, i) => ({
        category_id: ids[i % ids.length]!,
        url: `https://feed${i}.bench.example/feed.xml`,
        title: `Source number ${i}`,
        site_url: `https://feed${i}.bench.example/`,
        hidden: i % 25 === 24,
      })),
    )
    .execute();
  for (let from = 1; from <= posts; from += BATCH) {
    const to = Math.min(posts, from + BATCH - 1);
    await sql`
      WITH f AS (SELECT array_agg(id ORDER BY id) AS ids FROM feeds)
      INSERT INTO items (feed_id, guid, url, title, author, content_html, excerpt, content_hash, published_at, first_seen_at)
      SELECT f.ids[1 + g % cardinality(f.ids)], 'https://bench.example/p/' || g, 'https://bench.example/p/' || g || '.html',
             'Post number ' || g || ': a headline of ordinary length', 'Author ' || (g % 50),
             '<p>' || repeat('Some words of a post, as a planet shows it whole, with <a href="https://example.org/">a link</a>. ', 14) || '</p>'
               || '<p><img src="https://images.bench.example/' || g || '.jpg" alt="A picture"></p>',
             'An excerpt of the post, a sentence or two of plain text that the river shows for categories set to excerpt.',
             'h' || g, now() - g * interval '3 minutes', now() - g * interval '3 minutes'
      FROM generate_series(${from}::int, ${to}::int) AS g, f`.execute(db);
  }
  await sql`ANALYZE`.execute(db);
}

async function msPerBuild(runs: number, build: () => Promise<unknown>): Promise<number> {
  await build();
  const started = performance.now();
  for (let i = 0; i < runs; i += 1) await build();
  return (performance.now() - started) / runs;
}

const database: TestDatabase =
  values.backend === 'postgres'
    ? await createServerDatabase(loadConfig({ ...process.env, SECRET }).databaseUrl!)
    : await createEmbeddedDatabase();
const seedStarted = performance.now();
await seed(database.db);
const seedSeconds = (performance.now() - seedStarted) / 1000;

const config = {
  ...loadConfig({ SECRET, SITE_NAME: 'Planet Bench', BASE_URL: 'http://127.0.0.1:8080', LOG_LEVEL: 'silent', PLANET_CACHE_SECONDS: '60' }),
  secret: SECRET,
};
// What a page costs when built from the database (every PLANET_CACHE_SECONDS per page, and older pages).
const site = { siteName: config.siteName, base: '', planet: true, links: serverLinker(''), timezone: config.siteTimezone };
const options = { pageSize: config.planetPageSize, baseUrl: config.baseUrl };
const buildMs = {
  river: await msPerBuild(20, () => buildRiver(database.db, site, options, { pageNumber: 1 })),
  category: await msPerBuild(20, () => buildRiver(database.db, site, options, { category: 'thinktime', pageNumber: 1 })),
  olderPage: await msPerBuild(20, () =>
    buildRiver(database.db, site, options, { before: { date: new Date(Date.now() - posts * 60_000), id: posts }, pageNumber: 2 }),
  ),
  atom: await msPerBuild(20, () => buildFeed(database.db, site, options, 'atom')),
};

// The bench's load comes from one address: the per-IP limit would answer it with 429s.
const app = await buildWebServer({
  db: database.db,
  turns: database.turns,
  config,
  mailer: createOutboxMailer(path.join(os.tmpdir(), 'feed-digest-web-bench-outbox')),
  limits: { requestsPerMinute: 1_000_000_000 },
});
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address() as { port: number };
process.stdout.write(`${JSON.stringify({ port, seedSeconds, buildMs })}\n`);

process.stdin.resume();
await once(process.stdin, 'end');
await app.close();
await database.close();
process.exit(0);

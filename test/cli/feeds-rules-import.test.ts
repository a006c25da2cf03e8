import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { cliDatabase, type CliDatabase } from '../helpers/db.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';
import { startServer, type TestServer } from '../feeds/server.js';

/** feeds add (discovery), feeds edit, feeds rules and subscribers import, as an operator runs them. */
let work: string;
let env: Record<string, string>;
let database: CliDatabase;
let site: TestServer;
let sink: SmtpSink;

const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>R</title><item><guid>1</guid><title>Sponsored: buy</title><link>http://example.com/1</link></item><item><guid>2</guid><title>Real news</title><link>http://example.com/2</link></item></channel></rss>`;
const PAGE = (links: string) => `<!DOCTYPE html><html><head>${links}</head><body>Hi</body></html>`;

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-cli-rules-'));
  site = await startServer((req, res) => {
    if (req.url === '/feed.xml' || req.url === '/atom.xml')
      return void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS);
    if (req.url === '/')
      return void res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(PAGE('<link rel="alternate" type="application/rss+xml" href="feed.xml">'));
    if (req.url === '/two')
      return void res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          PAGE(
            '<link rel="alternate" type="application/rss+xml" href="feed.xml" title="RSS"><link rel="alternate" type="application/atom+xml" href="atom.xml" title="Atom">',
          ),
        );
    res.writeHead(404).end();
  });
  sink = await startSmtpSink();
  const secret = 'cli-test-secret-'.padEnd(48, 'z');
  database = await cliDatabase(work, secret, { served: true });
  env = { ...database.env, SMTP_URL: sink.url, BASE_URL: 'https://digest.example.org', FETCH_ALLOW_PRIVATE: '127.0.0.1' };
});

after(async () => {
  await sink.close();
  await site.close();
  await database.close();
  await rm(work, { recursive: true, force: true });
});

async function cli(args: string[], code = 0) {
  const result = await runCli(args, env);
  assert.equal(result.code, code, `feed-digest ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

test('feeds add on a site, feeds list with the site, --pick, feeds edit', async () => {
  await cli(['categories', 'add', 'news']);
  await cli(['categories', 'add', 'other']);
  const added = await cli(['feeds', 'add', site.url('/'), '--category', 'news']);
  assert.match(added.stdout, new RegExp(`Found ${site.url('/feed.xml')} on ${site.url('/')}`));
  const several = await cli(['feeds', 'add', site.url('/two'), '--category', 'news', '--json'], 1);
  assert.deepEqual(
    (JSON.parse(several.stdout) as Array<{ n: number; url: string }>).map((c) => [c.n, c.url]),
    [
      [1, site.url('/feed.xml')],
      [2, site.url('/atom.xml')],
    ],
  );
  assert.match(several.stderr, /names 2 feeds: add one with --pick N/);
  await cli(['feeds', 'add', site.url('/two'), '--category', 'news', '--pick', '2']);
  const list = JSON.parse((await cli(['feeds', 'list', '--json'])).stdout) as Array<{ url: string; site_url: string }>;
  assert.deepEqual(
    list.map((f) => [f.url, f.site_url]),
    [
      [site.url('/atom.xml'), site.url('/two')],
      [site.url('/feed.xml'), site.url('/')],
    ],
  );
  await cli(['feeds', 'edit', site.url('/atom.xml'), '--title', 'Atom copy', '--category', 'other', '--disable']);
  const edited = JSON.parse((await cli(['feeds', 'list', '--json'])).stdout) as Array<{
    url: string;
    title: string;
    category: string;
    disabled_at: string | null;
  }>;
  assert.deepEqual(
    edited.map((f) => [f.title, f.category, f.disabled_at !== null]),
    [
      [null, 'news', false],
      ['Atom copy', 'other', true],
    ],
  );
  assert.match((await cli(['feeds', 'edit', site.url('/atom.xml'), '--enable', '--disable'], 1)).stderr, /not both/);
});

test('feeds rules add, list, test and remove; a dangerous regex is refused when saved', async () => {
  const refused = await cli(['feeds', 'rules', 'add', 'block', '--site', '--field', 'title', '--regex', '(a+)+$'], 1);
  assert.match(refused.stderr, /exponential time/);
  const added = await cli(['feeds', 'rules', 'add', 'block', '--feed', site.url('/feed.xml'), '--field', 'title', '--word', 'sponsored']);
  assert.match(added.stdout, /Added rule \d+: block title "sponsored"/);
  await cli(['fetch']);
  const rules = JSON.parse((await cli(['feeds', 'rules', 'list', '--json'])).stdout) as Array<{ id: number; feed_url: string }>;
  assert.equal(rules.length, 1);
  const tried = JSON.parse(
    (await cli(['feeds', 'rules', 'test', '--feed', site.url('/feed.xml'), '--last', '5', '--json'])).stdout,
  ) as Array<{ title: string; verdict: string }>;
  assert.deepEqual(tried.map((r) => [r.title, r.verdict]).sort(), [
    ['Real news', 'kept'],
    ['Sponsored: buy', 'dropped'],
  ]);
  await cli(['feeds', 'rules', 'remove', String(rules[0]!.id)]);
  await cli(['feeds', 'rules', 'remove', String(rules[0]!.id)], 1);
});

test('subscribers import: bad rows by line, confirmation mails sent, a rerun changes nothing', async () => {
  const file = path.join(work, 'people.csv');
  await writeFile(file, 'email,categories,timezone,hour\nann@example.org,news,Europe/London,7\nbad,news,,\nbo@example.org,news other,,\n');
  const first = await cli(['subscribers', 'import', file], 1);
  assert.match(first.stdout, /Read 3 rows: added 2 \(2 pending\), 0 already there, 1 rejected/);
  assert.match(first.stdout, /line 3: "bad" is not a valid email address/);
  assert.match(first.stdout, /Confirmation mails: 2 sent/);
  await sink.waitFor(2);
  const second = await cli(['subscribers', 'import', file], 1);
  assert.match(second.stdout, /Read 3 rows: added 0 \(0 pending\), 2 already there, 1 rejected/);
  assert.doesNotMatch(second.stdout, /Confirmation mails/);
  assert.equal(sink.received.length, 2);
  const exported = path.join(work, 'export.csv');
  await cli(['subscribers', 'export', exported]);
  const back = await cli(['subscribers', 'import', exported]);
  assert.match(back.stdout, /Read 2 rows: added 0 \(0 pending\), 2 already there, 0 rejected/);
});

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/transport.js';
import { HTML_BUDGET_BYTES } from '../../src/render/digest.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startSmtpSink, type SmtpSink, type ReceivedMail } from '../helpers/smtp.js';
import { seedBusyDay } from './busy-day.js';

const OUTPUT_DIR = path.join(projectRoot, 'test-output');

let database: TestDatabase;
let sink: SmtpSink;
let mailer: Mailer;
let mail: ReceivedMail;
const secret = 'busy-day-secret-'.padEnd(40, 'x');
const config = {
  ...loadConfig({
    BASE_URL: 'https://digest.example.org',
    SECRET: secret,
    SITE_NAME: 'Planet Digest',
    POSTAL_ADDRESS: 'Planet Digest, 1 Example Street, Springfield',
  }),
  secret,
};

interface SeededPost {
  id: number;
  url: string;
  feed: string;
  category: string;
  cap: number;
}
let posts: SeededPost[];

before(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  mailer = createSmtpMailer(sink.url, 1);
  const { db } = database;
  // Subscribed before the posts arrive, so that all of them are new.
  await db.insertInto('categories').values({ name: 'placeholder', title: 'Placeholder' }).execute();
  assert.ok(
    'id' in (await addSubscriber(db, { email: 'reader@example.org', categoryNames: ['placeholder'], timezone: 'Australia/Melbourne' })),
  );
  const names = await seedBusyDay(db);
  const subscriber = await db.selectFrom('subscribers').select('id').executeTakeFirstOrThrow();
  const categories = await db.selectFrom('categories').select('id').where('name', 'in', names).execute();
  await db
    .insertInto('subscriber_categories')
    .values(categories.map((c) => ({ subscriber_id: subscriber.id, category_id: c.id })))
    .execute();
  posts = (await db
    .selectFrom('items as i')
    .innerJoin('feeds as f', 'f.id', 'i.feed_id')
    .innerJoin('categories as c', 'c.id', 'f.category_id')
    .select(['i.id', 'i.url', 'f.title as feed', 'c.title as category', 'c.source_cap as cap'])
    .execute()) as SeededPost[];
  const summary = await sendDueDigests(db, config, mailer);
  assert.equal(summary.delivered.sent, 1);
  mail = (await sink.waitFor(1))[0]!;
  // Kept for a look, and for the screenshots in test/web/digest-screens.test.ts.
  await mkdir(OUTPUT_DIR, { recursive: true });
  await writeFile(path.join(OUTPUT_DIR, 'busy-day.eml'), mail.raw);
});
after(async () => {
  await mailer.close();
  await sink.close();
  await database.close();
});

/** The posts the HTML shows: one <h3> per post, its link the post's URL. */
function shownPosts(html: string): SeededPost[] {
  const byUrl = new Map(posts.map((p) => [p.url, p]));
  return [...html.matchAll(/<h3[^>]*><a href="([^"]+)"/g)].map((m) => byUrl.get(m[1]!)!).filter(Boolean);
}

function count<T>(values: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

test('a busy day: every category gets its share, and no source passes its cap', () => {
  const shown = shownPosts(mail.parsed.html || '');
  assert.ok(shown.length > 20, `only ${shown.length} posts shown`);
  const perCategory = count(shown.map((p) => p.category));
  for (const [category, total] of count(posts.map((p) => p.category))) {
    assert.ok((perCategory.get(category) ?? 0) >= Math.min(3, total), `${category}: ${perCategory.get(category) ?? 0} of ${total} shown`);
  }
  for (const [feed, shownCount] of count(shown.map((p) => p.feed))) {
    const cap = posts.find((p) => p.feed === feed)!.cap;
    assert.ok(shownCount <= cap, `${feed} shows ${shownCount} posts, past its cap of ${cap}`);
  }
});

test('a busy day: the subject, the intro and the "Also new" lines count the same posts', () => {
  const subject = mail.parsed.subject ?? '';
  assert.ok(subject.length <= 80, `subject of ${subject.length} characters: ${subject}`);
  assert.doesNotMatch(subject, /Planet Digest/, 'the site name is in From, not the subject');
  const more = Number(/\+(\d+) more$/.exec(subject)?.[1]);
  const named = subject.replace(/ \+\d+ more$/, '').split(' · ').length;
  const html = mail.parsed.html || '';
  const intro = Number(/([\d,]+) new posts from/.exec(html)?.[1]?.replace(',', ''));
  assert.equal(named + more, posts.length, subject);
  assert.equal(intro, posts.length);
  const alsoNew = [...html.matchAll(/Also new: ([^<]+)</g)].flatMap((m) => [...m[1]!.matchAll(/(\d+) from/g)].map((x) => Number(x[1])));
  assert.equal(shownPosts(html).length + alsoNew.reduce((a, b) => a + b, 0), posts.length, 'shown plus "Also new" is every post');
  assert.match(html, /Also new: 397 from BBC News, \d+ from Ars Technica/);
  assert.match(
    html,
    /<div style="display:none;[^"]*">[^<]+ · [^<]+(?:&#847;&zwnj;&nbsp;){60}/,
    'the preheader holds the next headlines, then padding',
  );
  assert.match(
    html,
    /href="https:\/\/digest\.example\.org\/editions\/[\w-]{43}#c-news"/,
    '"Also new" links to the category on the web edition',
  );
});

test('a busy day: the HTML part as sent (quoted-printable) is under budget', () => {
  const raw = mail.raw.toString('latin1');
  const start = raw.indexOf('Content-Type: text/html');
  const body = raw.slice(raw.indexOf('\r\n\r\n', start) + 4, raw.indexOf('\r\n--', start));
  assert.ok(body.length > 20_000, `the HTML part is only ${body.length} bytes`);
  assert.ok(body.length <= HTML_BUDGET_BYTES, `the HTML part is ${body.length} bytes as sent`);
});

test('a busy day: the text part is wrapped, headline list first, one URL per line and no joined lines', () => {
  const text = mail.parsed.text ?? '';
  const lines = text.split('\n');
  // A URL longer than a line cannot be wrapped: it stands alone instead.
  const long = lines.filter((line) => line.length > 78 && !/^\s*https?:\/\/\S+$/.test(line));
  assert.deepEqual(long, [], 'no line over 78 characters');
  for (const line of lines.filter((l) => l.includes('http'))) assert.match(line, /^\s*https?:\/\/\S+$/, `a URL shares its line: ${line}`);
  assert.equal(lines[0], 'Planet Digest', 'the title is a line of its own');
  assert.match(lines[1]!, /^\w+day,? \d+ \w+ \d{4}$/, 'the date is a line of its own');
  const firstHeadline = lines.findIndex((l) => l.startsWith('* '));
  const firstCategory = lines.findIndex((l) => /^NEWS \(/.test(l));
  assert.ok(firstHeadline > 0 && firstHeadline < firstCategory, 'headlines come before the categories');
  for (const post of shownPosts(mail.parsed.html || '')) assert.ok(lines.includes(`  ${post.url}`), `${post.url} on its own line`);
});

test("a busy day: the footer says why, with the reader's own links, and the postal address", () => {
  const text = (mail.parsed.text ?? '').replace(/\s+/g, ' ');
  const since = new Intl.DateTimeFormat('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'Australia/Melbourne',
  }).format(new Date());
  assert.ok(
    text.includes(
      `You get this because you chose News, Placeholder, Podcasts, Releases, Tech, Thinktime at digest.example.org on ${since}.`,
    ),
    text.slice(-600),
  );
  assert.match(mail.parsed.text ?? '', /^https:\/\/digest\.example\.org\/preferences\/\S+$/m);
  for (const part of [mail.parsed.html || '', text]) assert.ok(part.includes('Planet Digest, 1 Example Street, Springfield'));
  const html = mail.parsed.html || '';
  assert.ok(
    html.indexOf('>View in your browser</a>') > 0 && html.indexOf('>View in your browser</a>') < html.indexOf('<h1'),
    'the browser link is at the top',
  );
});

test("a busy day: dates are in the reader's zone", () => {
  const date = new Intl.DateTimeFormat('en-GB', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'Australia/Melbourne',
  }).format(new Date());
  assert.ok((mail.parsed.text ?? '').includes(date), `the header says ${date}`);
});

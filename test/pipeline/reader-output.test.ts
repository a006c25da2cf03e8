import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { refreshFeed } from '../../src/feeds/refresh.js';
import { addCategory, addFeed } from '../../src/feeds/store.js';
import { sendDueDigests } from '../../src/jobs/send.js';
import { isProblem } from '../../src/problem.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { startServer, type TestServer } from '../feeds/server.js';
import { FormClient, startWeb, type WebHarness } from '../web/harness.js';

/**
 * Sanitizing checked where readers meet it: a hostile feed goes through the real fetch,
 * the digest mail and the web pages, and nothing executable comes out of any of them
 * (the sanitizer's own tests only looked at stored post HTML).
 */
let web: WebHarness;
let feeds: TestServer;

function hostileFeed(): string {
  const date = new Date().toUTCString();
  return `<?xml version="1.0"?>
<rss version="2.0"><channel><title>&lt;script&gt;alert('feed')&lt;/script&gt;Nasty &lt;b onmouseover="alert(2)"&gt;Planet&lt;/b&gt;</title>
<link>javascript:alert('site')</link>
<item><guid>one</guid><pubDate>${date}</pubDate>
<title>&lt;script&gt;alert(1)&lt;/script&gt;Scripted &lt;img src=x onerror=alert(1)&gt;Title</title>
<link>javascript:alert(1)</link><author>&lt;svg onload=alert(3)&gt;Mallory</author>
<description>&lt;p&gt;Text that shows markup: &amp;lt;img src=x onerror=alert(4)&amp;gt; and &amp;lt;script&amp;gt;alert(5)&amp;lt;/script&amp;gt; end.&lt;/p&gt;&lt;script&gt;alert(6)&lt;/script&gt;</description></item>
<item><guid>two</guid><pubDate>${date}</pubDate><title>A fine post</title>
<link>http://example.com/fine</link><description>&lt;a href="javascript:alert(7)"&gt;click&lt;/a&gt; Plain words.</description></item>
</channel></rss>`;
}

before(async () => {
  web = await startWeb();
  feeds = await startServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(hostileFeed()));
});
after(async () => {
  await feeds.close();
  await web.close();
});

/** Anything a browser or mail client would run, or a link that runs script. */
const EXECUTABLE = [/<script/i, /javascript:/i, /<[^>]*\son[a-z]+\s*=/i, /<svg/i, /<img[^>]*src=["']?x\b/i, /<iframe|<object|<embed/i];

function assertInert(where: string, html: string): void {
  for (const pattern of EXECUTABLE) assert.doesNotMatch(html, pattern, `${where}: ${pattern}`);
}

test('titles, links, authors and excerpts of a hostile feed reach the digest and the web pages inert', async () => {
  const { db } = web.database;
  assert.ok(!isProblem(await addCategory(db, { name: 'hostile', title: 'Hostile' })));
  const feed = await addFeed(db, { url: feeds.url('/feed.xml'), categoryName: 'hostile' });
  assert.ok(!isProblem(feed));
  assert.ok(!isProblem(await addSubscriber(db, { email: 'reader@example.org', categoryNames: ['hostile'] })));
  const outcome = await refreshFeed(db, { ...web.config, fetchAllowPrivate: true }, feed);
  assert.equal(outcome.newItems, 2, outcome.message);

  const sent = await sendDueDigests(db, web.config, web.mailer);
  assert.equal(sent.delivered.sent, 1);
  const [mail] = await web.sink.waitFor(1);
  const html = mail!.parsed.html || '';
  // The posts are there, as text: the checks below look at real content.
  assert.match(html, /Scripted/);
  assert.match(html, /Title/);
  assert.match(html, /A fine post/);
  assert.match(html, /Mallory/);
  assert.match(html, /Text that shows markup: &lt;img src=x onerror=alert\(4\)&gt;/, 'markup as text in an excerpt stays text');
  assertInert('digest HTML', html);
  assert.doesNotMatch(mail!.raw.toString('latin1'), /javascript:/i, 'no javascript: link in any part');

  const edition = await db.selectFrom('editions').select('key').executeTakeFirstOrThrow();
  const client = new FormClient(web.baseUrl);
  const page = await client.get(`/editions/${edition.key}`);
  assert.equal(page.status, 200);
  assert.match(page.body, /Scripted/);
  assert.match(page.body, /&lt;img src=x onerror=alert\(4\)&gt;/);
  assertInert('edition page', page.body.replace(/<script src="[^"]*\/static\/tz\.js"[^>]*><\/script>/g, ''));

  const home = await client.get('/');
  assert.match(home.body, /Nasty/);
  assertInert('home page', home.body.replace(/<script src="[^"]*\/static\/tz\.js"[^>]*><\/script>/g, ''));
});

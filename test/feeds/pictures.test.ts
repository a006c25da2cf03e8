import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ingestFeed } from '../../src/feeds/pipeline.js';
import type { PreparedItem } from '../../src/feeds/normalize.js';
import { NOW } from './fixtures.js';

async function posts(xml: string): Promise<PreparedItem[]> {
  const outcome = await ingestFeed(Buffer.from(xml), undefined, 'https://example.org/feed', { maxItems: 50, now: NOW });
  assert.equal(outcome.kind, 'ingested', JSON.stringify(outcome));
  return outcome.kind === 'ingested' ? outcome.items : [];
}

const rss = (items: string, ns = '') =>
  `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" ${ns}><channel><title>T</title><link>https://example.org/</link>${items}</channel></rss>`;

test('a post keeps the picture its feed names: media:thumbnail, media:content, media:group, itunes:image, an image enclosure', async () => {
  const items = await posts(
    rss(`
    <item><title>Thumb</title><link>https://example.org/1</link><media:thumbnail url="https://img.example.org/1.jpg" width="140" height="80"/><media:description>A red bus</media:description></item>
    <item><title>Content</title><link>https://example.org/2</link><media:content url="https://img.example.org/2.jpg" medium="image"/></item>
    <item><title>Group</title><link>https://example.org/3</link><media:group><media:content url="https://cdn.example.org/3.mp4" type="video/mp4"/><media:thumbnail url="https://img.example.org/3.jpg"/></media:group></item>
    <item><title>Episode</title><link>https://example.org/4</link><itunes:image href="https://img.example.org/4.jpg"/><enclosure url="https://cdn.example.org/4.mp3" type="audio/mpeg" length="34000000"/></item>
    <item><title>Enclosed</title><link>https://example.org/5</link><enclosure url="https://img.example.org/5.png" type="image/png" length="1000"/></item>`),
  );
  assert.deepEqual(
    items.map((i) => i.image?.url),
    [1, 2, 3, 4, 5].map((n) => `https://img.example.org/${n}.${n === 5 ? 'png' : 'jpg'}`),
  );
  assert.equal(items[0]!.image?.alt, 'A red bus');
  assert.deepEqual(items[3]!.enclosures, [{ url: 'https://cdn.example.org/4.mp3', type: 'audio/mpeg', length: 34000000 }]);
  assert.deepEqual(items[2]!.enclosures, [{ url: 'https://cdn.example.org/3.mp4', type: 'video/mp4', length: null }]);
  assert.deepEqual(items[4]!.enclosures, [], 'a picture is not an attachment');
});

test('else the first real picture of the post: https only, never a 1×1 tracker or a tiny icon', async () => {
  const [first, second] = await posts(
    rss(`
    <item><title>A</title><link>https://example.org/a</link><description><![CDATA[<p><img src="https://stats.example.org/p.gif" width="1" height="1"><img src="http://img.example.org/plain.jpg"><img src="https://img.example.org/icon.png" width="16" height="16"><img src="/pics/real.jpg" alt="The real one"></p>]]></description></item>
    <item><title>B</title><link>https://example.org/b</link><description><![CDATA[<p><img src="https://pixel.wp.com/g.gif"> text</p>]]></description></item>`),
  );
  assert.deepEqual(first!.image, { url: 'https://example.org/pics/real.jpg', alt: 'The real one' });
  assert.equal(second!.image, null);
});

test('a rel="related" link is never the post\'s own link', async () => {
  const [entry] = await posts(
    `<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>urn:1</id><title>Linked</title><link rel="related" href="https://elsewhere.example/story"/><updated>2024-06-01T10:00:00Z</updated></entry></feed>`,
  );
  assert.equal(entry!.url, null);
});

test('two guid-less posts that share a link but differ in title and date stay two posts', async () => {
  const items = await posts(
    rss(`
    <item><title>Monday's notes</title><link>https://example.org/notes</link><pubDate>Mon, 27 May 2024 08:00:00 GMT</pubDate></item>
    <item><title>Tuesday's notes</title><link>https://example.org/notes</link><pubDate>Tue, 28 May 2024 08:00:00 GMT</pubDate></item>
    <item><title>Tuesday's notes</title><link>https://example.org/notes</link><pubDate>Tue, 28 May 2024 08:00:00 GMT</pubDate></item>`),
  );
  assert.deepEqual(
    items.map((i) => i.title),
    ["Monday's notes", "Tuesday's notes"],
  );
  assert.equal(items[0]!.guid, 'https://example.org/notes', 'the first keeps the link as its identity, as before');
});

test("itunes:title is read; authors keep their name; an Atom entry inherits the feed's author", async () => {
  const [episode, mailto, angle] = await posts(
    rss(`
    <item><itunes:title>Episode 12: Tabs</itunes:title><link>https://example.org/12</link><author>host@example.org (Jo Host)</author></item>
    <item><title>B</title><link>https://example.org/b</link><author>Jane Doe (mailto:jane@example.org)</author></item>
    <item><title>C</title><link>https://example.org/c</link><author>Jim Roe &lt;jim@example.org&gt;</author></item>`),
  );
  assert.equal(episode!.title, 'Episode 12: Tabs');
  assert.equal(episode!.author, 'Jo Host');
  assert.equal(mailto!.author, 'Jane Doe');
  assert.equal(angle!.author, 'Jim Roe');
  const [own, inherited] = await posts(`<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><author><name>Feed Author</name></author>
    <entry><id>urn:1</id><title>Own</title><author><name>Entry Author</name></author><updated>2024-06-01T10:00:00Z</updated></entry>
    <entry><id>urn:2</id><title>Inherited</title><updated>2024-06-01T10:00:00Z</updated></entry></feed>`);
  assert.equal(own!.author, 'Entry Author');
  assert.equal(inherited!.author, 'Feed Author');
});

test('excerpts drop captions and a repeated title or author line, and keep sentence breaks between paragraphs', async () => {
  const [post] = await posts(
    rss(`<item><title>Blueprints in Nova</title><link>https://example.org/n</link><author>x@example.org (Michael Still)</author><description><![CDATA[
    <h2>Blueprints in Nova</h2><p>Author: Michael Still</p><figure><img src="https://img.example.org/n.jpg"><figcaption>Photo by someone</figcaption></figure>
    <p>We shipped it</p><p>Then we rested</p><ul><li>one</li><li>two</li></ul>]]></description></item>`),
  );
  assert.equal(post!.excerpt, 'We shipped it. Then we rested. one. two');
});

test('a title-less post (Mastodon) gets its first sentence as title, and the excerpt goes on after it', async () => {
  const [toot, long] = await posts(
    rss(`
    <item><link>https://social.example/@a/1</link><description><![CDATA[<p>Shipped feed-digest 1.0 today! It mails a planet of feeds.</p><p>Try it.</p>]]></description></item>
    <item><link>https://social.example/@a/2</link><description><![CDATA[<p>${'word '.repeat(40)}</p>]]></description></item>`),
  );
  assert.equal(toot!.title, 'Shipped feed-digest 1.0 today!');
  assert.equal(toot!.excerpt, 'It mails a planet of feeds. Try it.');
  assert.ok(long!.title.endsWith('…') && long!.title.length <= 81, long!.title);
  assert.ok(!long!.excerpt.startsWith('word word'), `the excerpt repeats the title: ${long!.excerpt}`);
});

import type { Db } from '../../src/db/connect.js';
import type { CategoryDisplay } from '../../src/db/schema.js';

/** Wide content the column must hold without a horizontal scroll. */
const WIDE_TABLE = `<table><tr>${Array.from({ length: 14 }, (_, i) => `<th>Column heading ${i + 1}</th>`).join('')}</tr><tr>${Array.from({ length: 14 }, (_, i) => `<td>value-${i + 1}-without-spaces-at-all</td>`).join('')}</tr></table>`;
const WIDE_PRE = `<pre><code>${'const aVeryLongLineOfCodeThatDoesNotWrap = someFunction(argumentNumberOne, argumentNumberTwo, argumentNumberThree);'.repeat(2)}</code></pre>`;
const BIG_IMAGE = '<p><img src="https://images.example/huge.png" alt="A wide diagram" width="2400" height="600"></p>';
const LONG_WORD = `<p>${'Supercalifragilisticexpialidocious'.repeat(6)}</p>`;

export interface PlanetFixture {
  categories: Record<string, number>;
  feeds: Record<string, number>;
}

async function category(db: Db, name: string, title: string, fields: { display: CategoryDisplay; public?: boolean; description?: string }) {
  const row = await db
    .insertInto('categories')
    .values({ name, title, display: fields.display, public: fields.public ?? true, description: fields.description ?? '' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function feed(db: Db, categoryId: number, title: string, fields: { hidden?: boolean } = {}) {
  const slug = title.toLowerCase().replace(/\W+/g, '-');
  const row = await db
    .insertInto('feeds')
    .values({
      category_id: categoryId,
      url: `https://${slug}.example/feed.xml`,
      title,
      site_url: `https://${slug}.example/`,
      hidden: fields.hidden ?? false,
      last_fetched_at: new Date(Date.now() - 3 * 3600_000),
      last_status: 'ok',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * A planet like the origin page: "thinktime" shows full posts (some with a wide table,
 * <pre> and a huge image), "tech" excerpts, "releases" titles only; a private category
 * and a hidden feed whose posts must never appear. 45 thinktime posts over 5 days, so
 * the river has older pages.
 */
export async function seedPlanet(db: Db, now = new Date()): Promise<PlanetFixture> {
  const thinktime = await category(db, 'thinktime', 'Thinktime', {
    display: 'full',
    description: 'Essays and notes from Planet Linux Australia, Seth Godin and friends.',
  });
  const tech = await category(db, 'tech', 'Tech & Code', { display: 'excerpt', description: 'Web standards, browsers and programming.' });
  const releases = await category(db, 'releases', 'Releases', { display: 'titles' });
  const staff = await category(db, 'staff', 'Staff only', { display: 'full', public: false });
  const feeds = {
    planet: await feed(db, thinktime, 'Planet Linux Australia'),
    seth: await feed(db, thinktime, 'Seth Godin'),
    alist: await feed(db, tech, 'A List Apart'),
    nova: await feed(db, releases, 'Nova releases'),
    secret: await feed(db, staff, 'Staff notes'),
    hidden: await feed(db, thinktime, 'Hidden feed', { hidden: true }),
  };
  let n = 0;
  const post = async (
    feedId: number,
    hoursAgo: number,
    fields: { title: string; html?: string; author?: string | null; image?: string },
  ) => {
    n += 1;
    await db
      .insertInto('items')
      .values({
        feed_id: feedId,
        guid: `https://posts.example/${feedId}/${n}`,
        url: `https://posts.example/${feedId}/${n}.html`,
        title: fields.title,
        author: fields.author === undefined ? 'Michael Still' : fields.author,
        content_html: fields.html ?? `<p>The body of ${fields.title}, with <a href="https://example.org/">a link</a>.</p>`,
        excerpt: `A short excerpt of ${fields.title}, a sentence or two of plain text for the river.`,
        content_hash: `h${n}`,
        published_at: new Date(now.getTime() - hoursAgo * 3600_000),
        image_url: fields.image ?? null,
        image_alt: fields.image === undefined ? null : 'A picture',
      })
      .execute();
  };
  await post(feeds.planet, 1, {
    title: 'Blueprints implemented in Nova during Juno',
    html: `<p>As we get closer to releasing the RC1 of Nova for Juno:</p><h2>Ongoing behind the scenes work</h2>${WIDE_TABLE}${WIDE_PRE}`,
  });
  await post(feeds.seth, 2, { title: 'The wide picture', html: `${BIG_IMAGE}${LONG_WORD}`, author: null });
  await post(feeds.alist, 3, { title: 'Responsive tables, again', image: 'https://images.example/thumb.jpg', author: 'Ada Lovelace' });
  await post(feeds.nova, 4, { title: 'Nova 2014.2 released' });
  await post(feeds.secret, 0.5, { title: 'Staff only: salaries' });
  await post(feeds.hidden, 0.5, { title: 'Hidden: not on the river' });
  for (let i = 0; i < 45; i += 1) {
    await post(i % 2 === 0 ? feeds.planet : feeds.seth, 5 + i * 2.5, { title: `Thinktime essay ${i + 1}` });
  }
  return { categories: { thinktime, tech, releases, staff }, feeds };
}

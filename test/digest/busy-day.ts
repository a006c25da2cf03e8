import type { Db } from '../../src/db/connect.js';
import { seedCategory, seedFeed } from '../helpers/seed.js';

/**
 * A generated busy day: one news source with 400 new posts among smaller ones, in
 * several categories shown in each of the three ways, some posts with pictures or
 * audio. Returns the names of the categories to subscribe to.
 */
export async function seedBusyDay(db: Db, now = new Date()): Promise<string[]> {
  const plan: Array<{ name: string; title: string; display?: 'titles' | 'excerpt' | 'full'; sources: Array<[string, number]> }> = [
    {
      name: 'news',
      title: 'News',
      sources: [
        ['BBC News', 400],
        ['Ars Technica', 15],
        ['The Guardian', 6],
        ['Reuters', 1],
      ],
    },
    {
      name: 'tech',
      title: 'Tech',
      sources: [
        ['LWN', 8],
        ['Hacker Daily', 30],
        ['Kernel Notes', 2],
      ],
    },
    {
      name: 'thinktime',
      title: 'Thinktime',
      display: 'full',
      sources: [
        ['Planet Linux Australia', 5],
        ['Seth Godin', 2],
      ],
    },
    { name: 'releases', title: 'Releases', display: 'titles', sources: [['Node.js releases', 4]] },
    { name: 'podcasts', title: 'Podcasts', sources: [['The Changelog', 2]] },
  ];
  let n = 0;
  for (const category of plan) {
    const categoryId = await seedCategory(db, category.name, category.title);
    if (category.display) await db.updateTable('categories').set({ display: category.display }).where('id', '=', categoryId).execute();
    for (const [title, count] of category.sources) {
      const feedId = await seedFeed(db, categoryId, title);
      const rows = Array.from({ length: count }, (_, i) => {
        n += 1;
        const long = 'The quick brown fox jumps over the lazy dog while the committee debates the budget for another hour. ';
        return {
          feed_id: feedId,
          guid: `busy-${n}`,
          url: `https://example.org/p/${n}`,
          title: `${title} story ${i + 1}: ${i % 3 === 0 ? 'a headline long enough to need wrapping in a narrow column of plain text' : 'short one'}`,
          author: i % 2 === 0 ? 'Sam Reporter' : null,
          content_html: `<p>${long.repeat(6)}</p><p><img src="https://img.example.org/${n}.jpg" alt="" width="1600" height="900"></p><p>${long.repeat(4)}</p>`,
          excerpt: long.repeat(3).trim(),
          content_hash: `busy-hash-${n}`,
          published_at: new Date(now.getTime() - (i * 37 + n) * 60_000),
          image_url: n % 4 === 0 ? `https://img.example.org/${n}.jpg` : null,
          image_alt: n % 4 === 0 ? `Picture for story ${n}` : null,
          enclosures: JSON.stringify(
            category.name === 'podcasts' ? [{ url: `https://cdn.example.org/ep${n}.mp3`, type: 'audio/mpeg', length: 34_000_000 }] : [],
          ),
        };
      });
      for (let i = 0; i < rows.length; i += 200)
        await db
          .insertInto('items')
          .values(rows.slice(i, i + 200))
          .execute();
    }
  }
  return plan.map((c) => c.name);
}

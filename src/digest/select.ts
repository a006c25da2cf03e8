import type { Digest, DigestCategory, DigestPost, DigestSource } from './model.js';

/** The posts one email shows of a category, by source, and what it leaves for the web edition. */
export interface SelectedCategory {
  category: DigestCategory;
  sources: Array<{ source: DigestSource; posts: DigestPost[] }>;
  /** Posts left out, per source, most first: the "Also new" line. */
  leftOut: Array<{ source: DigestSource; count: number }>;
  shownCount: number;
}

export interface Selection {
  categories: SelectedCategory[];
  /** Every shown post in the order it was picked: the top headlines first. */
  picked: DigestPost[];
  shownCount: number;
}

/**
 * Shares an email's `slots` fairly: categories take turns (so every category with
 * posts shows its newest ones), and within a category sources take turns, newest
 * first, never more than the category's cap from one source.
 */
export function selectPosts(digest: Digest, slots: number): Selection {
  const queues = digest.categories.map(categoryQueue);
  const taken = digest.categories.map(() => new Set<DigestPost>());
  const picked: DigestPost[] = [];
  for (let round = 0; picked.length < slots; round += 1) {
    let any = false;
    for (const [index, queue] of queues.entries()) {
      const post = queue[round];
      if (post === undefined || picked.length >= slots) continue;
      taken[index]!.add(post);
      picked.push(post);
      any = true;
    }
    if (!any) break;
  }
  const categories = digest.categories.map((category, index) => selectedCategory(category, taken[index]!));
  return { categories, picked, shownCount: picked.length };
}

/** A category's posts in the order it offers them: each source's newest, then each one's second, … */
function categoryQueue(category: DigestCategory): DigestPost[] {
  return category.sources
    .flatMap((source) => source.posts.slice(0, category.sourceCap).map((post, rank) => ({ post, rank })))
    .sort((a, b) => a.rank - b.rank || b.post.date.getTime() - a.post.date.getTime() || a.post.id - b.post.id)
    .map((entry) => entry.post);
}

function selectedCategory(category: DigestCategory, taken: Set<DigestPost>): SelectedCategory {
  const sources = category.sources
    .map((source) => ({ source, posts: source.posts.filter((post) => taken.has(post)) }))
    .filter((entry) => entry.posts.length > 0);
  const leftOut = category.sources
    .map((source) => ({ source, count: source.postCount - source.posts.filter((post) => taken.has(post)).length }))
    .filter((entry) => entry.count > 0)
    .sort((a, b) => b.count - a.count || a.source.title.localeCompare(b.source.title));
  return { category, sources, leftOut, shownCount: taken.size };
}

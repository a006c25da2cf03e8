import type { Digest, DigestCategory, DigestPost } from '../digest/model.js';
import { compileMjml } from './mjml.js';
import { markupTemplates, textTemplates } from './templates.js';

/**
 * A rendered edition. Links that differ per subscriber are left as placeholders
 * (see PLACEHOLDERS) so that one compile serves every subscriber of the edition.
 */
export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
}

export const PLACEHOLDERS = {
  unsubscribeUrl: '{{unsubscribe_url}}',
  preferencesUrl: '{{preferences_url}}',
} as const;

/** Puts one subscriber's links into a rendered HTML or text body (previews and web views). */
export function fillPlaceholders(body: string, links: { unsubscribeUrl: string; preferencesUrl: string }): string {
  return body
    .replaceAll(PLACEHOLDERS.unsubscribeUrl, links.unsubscribeUrl)
    .replaceAll(PLACEHOLDERS.preferencesUrl, links.preferencesUrl);
}

export interface RenderContext {
  siteName: string;
  baseUrl: string;
  /** Where "N more posts" points when the email cannot hold them all. */
  onlineUrl: string;
  now: Date;
}

/** Gmail clips messages past about 102 KB; stay well below. */
export const HTML_BUDGET_BYTES = 90 * 1024;
/**
 * About 1 KB of HTML per post with the template's one-column layout; the budget is
 * re-checked after compiling. Also the most posts an email shows: the digest it
 * renders needs no more (see buildDigestHead).
 */
export const MAX_POSTS_IN_EMAIL = 60;

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
});

export async function renderDigest(digest: Digest, context: RenderContext): Promise<RenderedDigest> {
  let shown = Math.min(digest.postCount, MAX_POSTS_IN_EMAIL);
  for (;;) {
    const view = digestView(digest, context, shown);
    const html = await compileMjml(markupTemplates.render('./email/digest.mjml.eta', view));
    const size = Buffer.byteLength(html);
    if (size <= HTML_BUDGET_BYTES || shown <= 1) {
      const text = tidyText(textTemplates.render('./email/digest.txt.eta', view));
      return { subject: view.subject, html, text };
    }
    shown = Math.max(1, Math.floor((shown * HTML_BUDGET_BYTES * 0.95) / size));
  }
}

/** The source is the heading above its posts, so a post's own line names only author and date. */
function postView(post: DigestPost, source: string) {
  const meta = [post.author, dateFormat.format(post.date)].filter(Boolean).join(' · ');
  return { id: post.id, title: post.title, url: post.url, excerpt: post.excerpt, meta, source };
}

/** Keeps the first `budget` posts (spread across categories in order) and counts the rest per category. */
function categoryView(category: DigestCategory, budget: { left: number }) {
  const sources = [];
  for (const source of category.sources) {
    const take = Math.min(source.posts.length, budget.left);
    budget.left -= take;
    if (take === 0) continue;
    const posts = source.posts.slice(0, take).map((post) => postView(post, source.title));
    sources.push({ title: source.title, siteUrl: source.siteUrl, posts });
  }
  const posts = sources.flatMap((s) => s.posts);
  // Counted from the category's total: the digest may hold only the posts an email can show.
  return { title: category.title, sources, posts, hiddenCount: category.postCount - posts.length };
}

function digestView(digest: Digest, context: RenderContext, shown: number) {
  const budget = { left: shown };
  const categories = digest.categories.map((category) => categoryView(category, budget));
  const names = digest.categories.map((c) => c.title).join(', ');
  const posts = `${digest.postCount} new post${digest.postCount === 1 ? '' : 's'}`;
  const first = categories[0]?.posts[0]?.title ?? '';
  return {
    subject: `${context.siteName}: ${posts} in ${names}`,
    preheader: first ? `${first}${digest.postCount > 1 ? ` and ${digest.postCount - 1} more` : ''}` : posts,
    title: context.siteName,
    dateLabel: dateFormat.format(context.now),
    intro: `${posts} in ${names}.`,
    categories,
    siteName: context.siteName,
    baseUrl: context.baseUrl,
    onlineUrl: context.onlineUrl,
    unsubscribeUrl: PLACEHOLDERS.unsubscribeUrl,
    preferencesUrl: PLACEHOLDERS.preferencesUrl,
  };
}

/** Template control lines leave blank runs behind; a reader wants at most one blank line. */
function tidyText(text: string): string {
  return `${text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

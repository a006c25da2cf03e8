import type { CategoryDisplay } from '../db/schema.js';
import type { Digest } from '../digest/model.js';
import type { ArchivedEdition } from '../planet/archive.js';
import type { PublicCategory, RiverPage, RiverPost } from '../planet/river.js';
import type { PublicSource } from '../planet/sources.js';
import { dateFormatter } from '../render/dates.js';
import type { Site } from './views.js';

/** What the river, sources and archive pages are given: the same on the server and in the export. */
export interface PlanetSite extends Site {
  /** The zone of day headings and times (SITE_TIMEZONE). */
  timezone: string;
}

const formatters = new Map<
  string,
  { day: Intl.DateTimeFormat; key: Intl.DateTimeFormat; time: Intl.DateTimeFormat; date: Intl.DateTimeFormat }
>();

function formattersFor(timezone: string) {
  let found = formatters.get(timezone);
  if (found === undefined) {
    found = {
      day: new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: timezone }),
      key: new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: timezone }),
      time: new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: timezone, timeZoneName: 'short' }),
      date: new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: timezone }),
    };
    formatters.set(timezone, found);
  }
  return found;
}

const HEADING = /<(\/?)h([1-6])(?=[\s>])/g;

/**
 * A sanitized post made fit for the river: pictures load only when scrolled to and
 * never tell their host where they were shown, and the post's own headings sit just
 * below the post's title (an h3 on the river: its highest becomes h4, the rest keep
 * their steps), so the page's outline stays in order. The content has been through the
 * sanitizer, so every tag is plain lower-case `<name` with allowlisted attributes.
 */
export function riverBody(html: string, titleLevel = 3): string {
  const top = Math.min(titleLevel + 1, 6);
  const levels = [...html.matchAll(HEADING)].map((match) => Number(match[2]));
  const shift = levels.length === 0 ? 0 : top - Math.min(...levels);
  return html
    .replace(/<img /g, '<img loading="lazy" decoding="async" referrerpolicy="no-referrer" ')
    .replace(HEADING, (_tag, slash: string, level: string) => `<${slash}h${Math.min(Math.max(Number(level) + shift, top), 6)}`);
}

interface PostView {
  anchor: string;
  title: string;
  url: string | null;
  source: { title: string; url: string | null };
  author: string | null;
  datetime: string;
  time: string;
  display: CategoryDisplay;
  bodyHtml: string;
  excerpt: string;
  image: { url: string; alt: string } | null;
  category: { title: string; href: string };
}

function postView(site: PlanetSite, post: RiverPost): PostView {
  const { display } = post.category;
  return {
    anchor: `post-${post.id}`,
    title: post.title,
    url: post.url,
    source: { title: post.source.title, url: post.source.siteUrl },
    author: post.author,
    datetime: post.date.toISOString(),
    time: formattersFor(site.timezone).time.format(post.date),
    display,
    bodyHtml: display === 'full' ? riverBody(post.contentHtml) : '',
    excerpt: display === 'excerpt' ? post.excerpt : '',
    image: display === 'excerpt' && post.imageUrl !== null ? { url: post.imageUrl, alt: post.imageAlt ?? '' } : null,
    category: { title: post.category.title, href: site.links.river(post.category.name) },
  };
}

/** Posts under a heading per day, in the site's zone. */
function byDay(site: PlanetSite, posts: RiverPost[]) {
  const { day, key } = formattersFor(site.timezone);
  const days: Array<{ key: string; label: string; posts: PostView[] }> = [];
  for (const post of posts) {
    const dayKey = key.format(post.date);
    if (days.at(-1)?.key !== dayKey) days.push({ key: dayKey, label: day.format(post.date), posts: [] });
    days.at(-1)!.posts.push(postView(site, post));
  }
  return days;
}

export interface RiverRequest {
  categories: PublicCategory[];
  /** The category page, or the whole river when undefined. */
  category: PublicCategory | undefined;
  page: RiverPage;
  /** 1 for the newest page: older pages say so in their title. */
  pageNumber: number;
}

export function riverView(site: PlanetSite, request: RiverRequest) {
  const { category, page, pageNumber } = request;
  const name = category?.name;
  const heading = category?.title ?? site.siteName;
  return {
    title: `${category?.title ?? 'Latest posts'}${pageNumber > 1 ? `, page ${pageNumber}` : ''}`,
    heading,
    description:
      category?.description ??
      (request.categories.length > 0 ? `New posts from ${request.categories.map((c) => c.title).join(', ')}.` : ''),
    section: 'river',
    pageNumber,
    categories: request.categories.map((c) => ({ title: c.title, href: site.links.river(c.name), current: c.name === name })),
    allHref: site.links.river(),
    isAll: category === undefined,
    days: byDay(site, page.posts),
    olderHref: page.older === undefined ? undefined : site.links.olderPage(name, page.older, pageNumber + 1),
    newestHref: pageNumber > 1 ? site.links.river(name) : undefined,
    feeds: { atom: site.links.feed('atom', name), json: site.links.feed('json', name), opml: site.links.opml(name) },
    alternates:
      category === undefined
        ? []
        : [
            { type: 'application/atom+xml', title: `${category.title} (Atom)`, href: site.links.feed('atom', name) },
            { type: 'application/feed+json', title: `${category.title} (JSON Feed)`, href: site.links.feed('json', name) },
          ],
  };
}

const ago = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "3 hours ago", "yesterday": the largest unit that fits. */
export function timeAgo(date: Date, now: Date): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['year', 31_536_000],
    ['month', 2_592_000],
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return ago.format(Math.round(seconds / size), unit);
  }
  return 'just now';
}

/** A feed's last fetch, in words. */
export function fetchStatusInWords(source: PublicSource, now: Date): { text: string; tone: 'ok' | 'warn' | 'error' } {
  if (source.disabled) return { text: `Not fetched any more: ${source.lastError ?? 'it failed too often'}`, tone: 'error' };
  if (source.lastFetchedAt === null) return { text: 'Not fetched yet', tone: 'warn' };
  const when = timeAgo(source.lastFetchedAt, now);
  if (source.lastStatus === 'error') return { text: `Failed ${when}: ${source.lastError ?? 'unknown error'}`, tone: 'error' };
  if (source.lastStatus === 'not_modified') return { text: `Checked ${when}, nothing new`, tone: 'ok' };
  return { text: `Fetched ${when}`, tone: 'ok' };
}

export function sourcesView(site: PlanetSite, sources: PublicSource[], now: Date) {
  const { date } = formattersFor(site.timezone);
  const groups: Array<{ title: string; href: string; sources: unknown[] }> = [];
  for (const source of sources) {
    if (groups.at(-1)?.title !== source.category.title)
      groups.push({ title: source.category.title, href: site.links.river(source.category.name), sources: [] });
    groups.at(-1)!.sources.push({
      title: source.title,
      siteUrl: source.siteUrl,
      feedUrl: source.feedUrl,
      lastPost: source.lastPostAt === null ? 'no posts yet' : date.format(source.lastPostAt),
      lastPostIso: source.lastPostAt?.toISOString(),
      posts30: source.postsLast30Days,
      status: fetchStatusInWords(source, now),
    });
  }
  return { title: 'Sources', section: 'sources', groups, opml: site.links.opml() };
}

export function editionsView(site: PlanetSite, editions: ArchivedEdition[], olderHref: string | undefined) {
  const { date, time } = formattersFor(site.timezone);
  return {
    title: 'Archive',
    section: 'editions',
    editions: editions.map((edition) => ({
      href: site.links.edition(edition.key),
      date: date.format(edition.createdAt),
      time: time.format(edition.createdAt),
      datetime: edition.createdAt.toISOString(),
      posts: edition.postCount,
      categories: edition.categoryTitles.join(', '),
    })),
    olderHref,
  };
}

/** The web edition's view model (README, "Your own templates"). */
export function editionView(digest: Digest, locale: string) {
  const postDate = dateFormatter(locale, digest.timeZone, 'post');
  return {
    title: `${digest.postCount} new post${digest.postCount === 1 ? '' : 's'}`,
    dateLabel: dateFormatter(locale, digest.timeZone, 'long').format(digest.date),
    postCount: digest.postCount,
    categories: digest.categories.map((category) => ({
      title: category.title,
      anchor: `c-${category.name}`,
      postCount: category.postCount,
      display: category.display,
      sources: category.sources.map((source) => ({
        title: source.title,
        siteUrl: source.siteUrl,
        posts: source.posts.map((post) => ({
          id: post.id,
          title: post.title,
          url: post.url,
          excerpt: category.display === 'titles' ? '' : post.excerpt,
          // Post titles are h4 here: the post's own headings go below them.
          contentHtml: post.contentHtml ? riverBody(post.contentHtml, 4) : post.contentHtml,
          image: category.display === 'excerpt' ? post.image : null,
          meta: [post.author, postDate.format(post.date)].filter(Boolean).join(' · '),
        })),
      })),
    })),
  };
}

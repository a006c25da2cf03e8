import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import type { Digest, DigestCategory, DigestPost } from '../digest/model.js';
import { selectPosts, type SelectedCategory, type Selection } from '../digest/select.js';
import { createHash } from 'node:crypto';
import { Localizer } from './localize.js';
import { compileMjml } from './mjml.js';
import { newSlotNonce, placeholders } from './personal.js';
import {
  compileAllTemplates,
  markupTemplates,
  setTemplatesOverride,
  TemplateError,
  templatesGeneration,
  textTemplates,
} from './templates.js';
import { tidyText, wrapText, TEXT_WIDTH } from './text.js';

/**
 * A rendered edition. Values that differ per subscriber are placeholders made with
 * `slotNonce` (see personal.ts), so that one compile serves every subscriber.
 */
export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
  slotNonce: string;
}

export interface RenderContext {
  siteName: string;
  baseUrl: string;
  /** The edition's web page: "view in browser", and where "Also new" lines point (plus #category). */
  onlineUrl: string;
  now: Date;
  locale: string;
  /** A postal address for the footer (CAN-SPAM), if the operator set one. */
  postalAddress?: string | undefined;
}

/** Gmail clips messages past about 102 KB of the message as sent; stay well below. */
export const HTML_BUDGET_BYTES = 90 * 1024;
/** The most posts an email shows; fewer when the HTML would pass the budget. */
export const MAX_POSTS_IN_EMAIL = 60;
/** A contents list helps past this many posts; below it, it only pushes the first post down. */
const CONTENTS_FROM = 7;
const SUBJECT_MAX = 78;
/** A full post longer than this would crowd out every other post: its excerpt is shown instead. */
const FULL_POST_MAX = 20_000;
/** Thumbnails are shown in a box of this size; the client scales the picture into it. */
const THUMBNAIL_PX = 88;

/** The HTML's size as it travels: quoted-printable, as nodemailer encodes it, with CRLF line ends. */
export function sentHtmlBytes(html: string): number {
  return qpWrap(qpEncode(Buffer.from(html, 'utf8')), 76).replace(/\r?\n/g, '\r\n').length;
}

interface Compiled {
  subject: string;
  html: string;
  text: string;
  slotNonce: string;
  localizer: Localizer;
}

/**
 * Compiled digests by content, zone and address aside (see localize.ts): editions that
 * differ only in their readers' zone are compiled once. Editions are rendered one after
 * another, so a few recent ones suffice.
 */
const compiledByContent = new Map<string, Promise<Compiled>>();
const COMPILED_KEPT = 16;

function contentKey(digest: Digest, context: RenderContext): string {
  const { editionId: _id, editionKey: _key, timeZone: _zone, ...content } = digest;
  const { onlineUrl: _online, ...rest } = context;
  return createHash('sha256')
    .update(JSON.stringify([content, rest, templatesGeneration()]))
    .digest('base64url');
}

export async function renderDigest(digest: Digest, context: RenderContext): Promise<RenderedDigest> {
  const key = contentKey(digest, context);
  let compiled = compiledByContent.get(key);
  if (compiled === undefined) {
    compiled = compileDigest(digest, context);
    compiledByContent.set(key, compiled);
    compiled.catch(() => compiledByContent.delete(key));
    if (compiledByContent.size > COMPILED_KEPT) compiledByContent.delete(compiledByContent.keys().next().value!);
  }
  const { subject, html, text, slotNonce, localizer } = await compiled;
  const localize = (body: string) => localizer.localize(body, context.locale, digest.timeZone, context.onlineUrl);
  return { subject, html: localize(html), text: localize(text), slotNonce };
}

async function compileDigest(digest: Digest, context: RenderContext): Promise<Compiled> {
  const slotNonce = newSlotNonce();
  let slots = MAX_POSTS_IN_EMAIL;
  for (;;) {
    const localizer = new Localizer(slotNonce);
    const selection = selectPosts(digest, slots);
    const view = digestView(digest, selection, context, slotNonce, localizer);
    const html = await compileMjml(markupTemplates.render('./email/digest.mjml.eta', view));
    const size = sentHtmlBytes(html);
    if (size <= HTML_BUDGET_BYTES || slots <= 1) {
      const text = tidyText(textTemplates.render('./email/digest.txt.eta', view));
      return { subject: view.subject, html, text, slotNonce, localizer };
    }
    slots = Math.max(1, Math.min(selection.shownCount - 1, Math.floor((selection.shownCount * HTML_BUDGET_BYTES * 0.95) / size)));
  }
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;
}

function hostOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return null;
  }
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** The top one or two headlines and "+N more": N counts every other post of the edition. */
export function subjectLine(picked: DigestPost[], total: number): string {
  for (const named of [Math.min(2, picked.length), 1]) {
    const more = total - named;
    const suffix = more > 0 ? ` +${more} more` : '';
    const titles = picked
      .slice(0, named)
      .map((p) => p.title)
      .join(' · ');
    if (titles.length + suffix.length <= SUBJECT_MAX || named === 1) {
      return `${shorten(titles, SUBJECT_MAX - suffix.length)}${suffix}`;
    }
  }
  return '';
}

/**
 * Invisible characters after the preheader, so that inbox previews show it and then
 * nothing: without them, clients fill the preview with the body's first words.
 */
const PREHEADER_PADDING = '&#847;&zwnj;&nbsp;'.repeat(90);

function postView(post: DigestPost, source: string, display: string, localizer: Localizer) {
  const date = localizer.date(post.date, 'post');
  const host = hostOf(post.url);
  return {
    id: post.id,
    title: post.title,
    url: post.url,
    host,
    source,
    author: post.author,
    dateLabel: date,
    meta: [post.author, date].filter(Boolean).join(' · '),
    // A post too long to show in full shows its excerpt instead; "Read on" leads to the rest.
    excerpt: display === 'titles' ? '' : post.excerpt,
    contentHtml: display === 'full' && (post.contentHtml ?? '').length <= FULL_POST_MAX ? fitImages(post.contentHtml ?? '') : null,
    // A full post carries its own pictures; a title alone stays one line.
    image: display !== 'excerpt' || post.image === null ? null : { ...post.image, width: THUMBNAIL_PX, height: THUMBNAIL_PX },
    enclosures: post.enclosures
      .filter((e) => /^(audio|video)\//.test(e.type ?? ''))
      .map((e) => ({
        url: e.url,
        label: `${e.type!.startsWith('audio/') ? 'Listen' : 'Watch'}${e.length ? ` (${Math.max(1, Math.round(e.length / 1e6))} MB)` : ''}`,
      })),
  };
}

/** Pictures in a full post never overflow the column, whatever size the feed gave them. */
function fitImages(html: string): string {
  return html.replace(
    /<img\b([^>]*)>/gi,
    (_, attrs: string) => `<img${attrs.replace(/\s(?:width|height|style)="[^"]*"/gi, '')} style="max-width:100%;height:auto;">`,
  );
}

function categoryView(selected: SelectedCategory, localizer: Localizer) {
  const { category } = selected;
  const anchor = `c-${category.name}`;
  const also = selected.leftOut.slice(0, 3).map((entry) => `${entry.count} from ${entry.source.title}`);
  const otherSources = selected.leftOut.slice(3);
  if (otherSources.length > 0) {
    also.push(`${otherSources.reduce((n, e) => n + e.count, 0)} from ${plural(otherSources.length, 'other source')}`);
  }
  return {
    name: category.name,
    title: category.title,
    anchor,
    display: category.display,
    url: `${localizer.onlineToken}#${anchor}`,
    postCount: category.postCount,
    shownCount: selected.shownCount,
    hiddenCount: category.postCount - selected.shownCount,
    alsoNew: also.length > 0 ? `Also new: ${also.join(', ')}` : '',
    sources: selected.sources.map(({ source, posts }) => ({
      title: source.title,
      siteUrl: source.siteUrl,
      posts: posts.map((post) => postView(post, source.title, category.display, localizer)),
    })),
  };
}

/**
 * The view model every digest template gets (documented in README, "Your own templates").
 * Counts in the subject, intro and contents all come from the same selection.
 */
function digestView(digest: Digest, selection: Selection, context: RenderContext, slotNonce: string, localizer: Localizer) {
  const categories = selection.categories.map((c) => categoryView(c, localizer));
  const total = digest.postCount;
  const shown = selection.shownCount;
  const sourceCount = digest.categories.reduce((n, c) => n + c.sources.length, 0);
  const headlines = selection.picked.map((post) => ({ id: post.id, title: post.title }));
  const preheader = selection.picked
    .slice(2, 8)
    .map((p) => p.title)
    .join(' · ');
  return {
    subject: subjectLine(selection.picked, total),
    preheader: shorten(preheader || `${plural(total, 'new post')} in ${categories.map((c) => c.title).join(', ')}`, 150),
    preheaderPadding: PREHEADER_PADDING,
    title: context.siteName,
    siteName: context.siteName,
    siteHost: hostOf(context.baseUrl) ?? context.baseUrl,
    baseUrl: context.baseUrl,
    onlineUrl: localizer.onlineToken,
    dateLabel: localizer.date(context.now, 'long'),
    postCount: total,
    shownCount: shown,
    intro: `${plural(total, 'new post')} from ${plural(sourceCount, 'source')}.${shown < total ? ` Here are ${shown}, the newest few from each.` : ''}`,
    showContents: shown >= CONTENTS_FROM,
    headlines: headlines.slice(0, 5),
    categories,
    chosenCategories: digest.chosenCategories.join(', '),
    postalAddress: context.postalAddress ?? '',
    personal: placeholders(slotNonce),
    /** For the text template: wraps at 72 columns with a hanging indent. */
    wrap: wrapText,
    textWidth: TEXT_WIDTH,
  };
}

/** A small digest of every kind of post, to try the operator's templates on at start. */
function sampleDigest(now: Date): Digest {
  const post = (id: number, extra: Partial<DigestPost> = {}): DigestPost => ({
    id,
    title: `Sample post ${id}`,
    url: `https://example.org/${id}`,
    author: 'A. Writer',
    date: now,
    excerpt: 'A sample excerpt.',
    contentHtml: '<p>A sample post.</p>',
    image: { url: 'https://example.org/a.png', alt: '' },
    enclosures: [{ url: 'https://example.org/a.mp3', type: 'audio/mpeg', length: 1_000_000 }],
    ...extra,
  });
  const category = (name: string, display: DigestCategory['display'], posts: DigestPost[]): DigestCategory => ({
    name,
    title: name,
    display,
    sourceCap: 3,
    thumbnails: true,
    postCount: posts.length + 5,
    sources: [{ feedId: 1, title: 'Sample source', siteUrl: null, posts, postCount: posts.length + 5 }],
  });
  const categories = [
    category('excerpts', 'excerpt', [post(1), post(2, { url: null, author: null, image: null, enclosures: [] })]),
    category('titles', 'titles', [post(3)]),
    category('full', 'full', [post(4)]),
  ];
  return { editionId: 0, editionKey: 'sample', date: now, timeZone: 'UTC', chosenCategories: ['excerpts'], categories, postCount: 19 };
}

/**
 * Uses TEMPLATES_DIR and compiles every template; with the operator's own, also renders
 * a sample digest through them (Eta, then MJML), so that a template that cannot work
 * stops the program at start with its file named, never a send half-way.
 */
export async function prepareTemplates(templatesDir: string | undefined, context: Omit<RenderContext, 'now'>): Promise<void> {
  setTemplatesOverride(templatesDir);
  compileAllTemplates();
  if (templatesDir === undefined) return;
  try {
    await renderDigest(sampleDigest(new Date()), { ...context, now: new Date() });
  } catch (error) {
    throw new TemplateError(
      `the digest templates in ${templatesDir} fail on a sample digest: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
}

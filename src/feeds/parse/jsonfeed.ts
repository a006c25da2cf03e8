import type { Problem } from '../../problem.js';
import type { RawFeed, RawItem } from './model.js';

/**
 * JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) to the same RawFeed as RSS and
 * Atom, so that identity, links, dates, limits and sanitizing are the ones every feed gets.
 * The format is read as loosely as its readers do: a field of the wrong type is left out,
 * not fatal; only a document that is not a JSON Feed at all is rejected.
 */

type Json = Record<string, unknown>;

const VERSION = /^https?:\/\/jsonfeed\.org\/version\/1(?:\.\d+)?\/?$/;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** An id may be a number in feeds written by hand; 1.1 says it is a string. */
function idOf(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : text(value);
}

const escapeHtml = (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** content_text as HTML: paragraphs at blank lines, line breaks kept. */
function textAsHtml(value: string): string {
  return value
    .split(/\n\s*\n/)
    .map((paragraph) => `<p>${escapeHtml(paragraph.trim()).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

/** 1.1 `authors` (an array), else 1.0 `author` (one object). */
function authorNames(record: Json): string | undefined {
  const authors = Array.isArray(record.authors) ? record.authors : isObject(record.author) ? [record.author] : [];
  const names = authors
    .filter(isObject)
    .map((author) => text(author.name))
    .filter((name): name is string => name !== undefined);
  return names.length > 0 ? names.join(', ') : undefined;
}

function absoluteUrl(value: unknown, base: string | undefined, protocols: string[]): string | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  try {
    const url = new URL(raw, base);
    return protocols.includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function attachments(value: unknown, base: string | undefined): NonNullable<RawItem['enclosures']> {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).flatMap((attachment) => {
    const url = absoluteUrl(attachment.url, base, ['http:', 'https:']);
    if (url === undefined) return [];
    const size = attachment.size_in_bytes;
    return [
      {
        url,
        type: text(attachment.mime_type),
        length: typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : undefined,
      },
    ];
  });
}

function tags(value: unknown): string[] {
  return Array.isArray(value) ? value.map(text).filter((tag): tag is string => tag !== undefined) : [];
}

function toRawItem(item: Json, feedAuthor: string | undefined, base: string | undefined): RawItem {
  const html = text(item.content_html);
  const plain = text(item.content_text) ?? text(item.summary);
  return {
    title: text(item.title),
    titleIsHtml: false,
    link: text(item.url) ?? text(item.external_url),
    guid: idOf(item.id),
    // An id is often the post's URL; when it is not one, resolveUrl leaves it an identity only.
    guidIsLink: true,
    bases: [],
    contentBases: [],
    date: text(item.date_published) ?? text(item.date_modified),
    author: authorNames(item) ?? feedAuthor,
    html: html ?? (plain === undefined ? undefined : textAsHtml(plain)),
    categories: tags(item.tags),
    // Pictures go into mail as they are: https only, as for every other feed.
    images: [absoluteUrl(item.image, base, ['https:']), absoluteUrl(item.banner_image, base, ['https:'])]
      .filter((url): url is string => url !== undefined)
      .map((url) => ({ url })),
    enclosures: attachments(item.attachments, base),
  };
}

export function looksLikeJson(text: string): boolean {
  const start = text.trimStart();
  return start.startsWith('{') || start.startsWith('[');
}

export function parseJsonFeed(source: string, maxItems: number): RawFeed | Problem {
  let document: unknown;
  try {
    document = JSON.parse(source.replace(/^\ufeff/, ''));
  } catch (error) {
    return { problem: `not well-formed JSON: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
  if (!isObject(document)) return { problem: 'not a feed: JSON that is not an object' };
  if (typeof document.version !== 'string' || !VERSION.test(document.version.trim())) {
    return { problem: 'not a feed: JSON without a JSON Feed version' };
  }
  if (!Array.isArray(document.items)) return { problem: 'JSON Feed without an items array' };
  const base =
    absoluteUrl(document.home_page_url, undefined, ['http:', 'https:']) ?? absoluteUrl(document.feed_url, undefined, ['http:', 'https:']);
  const feedAuthor = authorNames(document);
  const items = document.items.filter(isObject);
  return {
    format: 'json',
    title: text(document.title),
    titleIsHtml: false,
    link: text(document.home_page_url),
    selfLink: text(document.feed_url),
    bases: [],
    items: items.slice(0, maxItems).map((item) => toRawItem(item, feedAuthor, base)),
    dropped: Math.max(0, items.length - maxItems),
  };
}

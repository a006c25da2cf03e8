import path from 'node:path';
import { formatCursor, type RiverCursor } from '../planet/river.js';

/**
 * Where a page's links point. The server's pages link by path under BASE_URL's path;
 * the static export (site build) links relatively, so the folder works on any host,
 * and sends only what needs the server (sign-up) to BASE_URL.
 */
export interface Linker {
  river(category?: string): string;
  /** An older page: by cursor on the server, by number in the export. */
  olderPage(category: string | undefined, cursor: RiverCursor, pageNumber: number): string;
  feed(format: 'atom' | 'json', category?: string): string;
  sources(): string;
  opml(category?: string): string;
  editions(): string;
  /** An older archive page: by the last edition's id on the server, by number in the export. */
  olderEditions(beforeId: number, pageNumber: number): string;
  edition(key: string): string;
  subscribe(): string;
  asset(file: string): string;
}

const categoryPath = (category: string | undefined) => (category === undefined ? '' : `/c/${encodeURIComponent(category)}`);

export function serverLinker(base: string): Linker {
  return {
    river: (category) => `${base}${categoryPath(category)}${category === undefined ? '/' : ''}`,
    olderPage: (category, cursor, pageNumber) =>
      `${base}${categoryPath(category)}${category === undefined ? '/' : ''}?before=${formatCursor(cursor)}&page=${pageNumber}`,
    feed: (format, category) => `${base}${categoryPath(category)}/feed.${format}`,
    sources: () => `${base}/sources`,
    opml: (category) => `${base}${categoryPath(category)}/opml`,
    editions: () => `${base}/editions`,
    olderEditions: (beforeId) => `${base}/editions?before=${beforeId}`,
    edition: (key) => `${base}/editions/${key}`,
    subscribe: () => `${base}/subscribe`,
    asset: (file) => `${base}/static/${file}`,
  };
}

/** The static export's file for each page: these paths, relative to its folder. */
export const staticFiles = {
  river: (category?: string) => (category === undefined ? 'index.html' : `c/${category}/index.html`),
  olderPage: (category: string | undefined, pageNumber: number) =>
    category === undefined ? `page${pageNumber}.html` : `c/${category}/page${pageNumber}.html`,
  feed: (format: 'atom' | 'json', category?: string) => (category === undefined ? `feed.${format}` : `c/${category}/feed.${format}`),
  sources: () => 'sources/index.html',
  opml: (category?: string) => (category === undefined ? 'opml.xml' : `c/${category}/opml.xml`),
  editions: (pageNumber = 1) => (pageNumber === 1 ? 'editions/index.html' : `editions/page${pageNumber}.html`),
  edition: (key: string) => `editions/${key}.html`,
  asset: (file: string) => `static/${file}`,
};

/** Links from the export's file `fromFile` to its other files, and to the server for sign-up. */
export function staticLinker(fromFile: string, baseUrl: string): Linker {
  // index.html spelled out: the folder also reads from file:// where no server picks an index.
  const rel = (file: string) => path.posix.relative(path.posix.dirname(fromFile), file);
  return {
    river: (category) => rel(staticFiles.river(category)),
    olderPage: (category, _cursor, pageNumber) => rel(staticFiles.olderPage(category, pageNumber)),
    feed: (format, category) => rel(staticFiles.feed(format, category)),
    sources: () => rel(staticFiles.sources()),
    opml: (category) => rel(staticFiles.opml(category)),
    editions: () => rel(staticFiles.editions()),
    olderEditions: (_beforeId, pageNumber) => rel(staticFiles.editions(pageNumber)),
    edition: (key) => rel(staticFiles.edition(key)),
    subscribe: () => `${baseUrl}/subscribe`,
    asset: (file) => rel(staticFiles.asset(file)),
  };
}

import type { CategoryDisplay, Enclosure } from '../db/schema.js';

/** What a digest says, independent of how it is rendered. */
export interface DigestPost {
  id: number;
  title: string;
  url: string | null;
  author: string | null;
  /** When it was published, else when we first saw it. */
  date: Date;
  excerpt: string;
  /** The sanitized post: loaded only for categories shown in full. */
  contentHtml: string | null;
  /** Its picture (https), when the category shows thumbnails. */
  image: { url: string; alt: string } | null;
  enclosures: Enclosure[];
}

export interface DigestSource {
  feedId: number;
  title: string;
  siteUrl: string | null;
  /** Newest first. In a digest's head, only the first `sourceCap` of them. */
  posts: DigestPost[];
  /** Posts of this source in the edition, loaded or not. */
  postCount: number;
}

export interface DigestCategory {
  name: string;
  title: string;
  display: CategoryDisplay;
  /** At most this many posts of one source in one email. */
  sourceCap: number;
  thumbnails: boolean;
  sources: DigestSource[];
  /** Posts of this category in the edition: more than `sources` hold when only the head was loaded. */
  postCount: number;
}

export interface Digest {
  editionId: number;
  /** Unguessable content hash: names the edition's page on the web server. */
  editionKey: string;
  /** When the edition was planned. */
  date: Date;
  /** The readers' IANA time zone: every date in the digest is shown in it. */
  timeZone: string;
  /** Titles of every category the readers chose, with new posts or not (the footer says why they get it). */
  chosenCategories: string[];
  /** Categories with new posts, in digest order. */
  categories: DigestCategory[];
  postCount: number;
}

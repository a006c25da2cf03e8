/** What the parse step hands on: plain strings, no parser objects. */
export interface RawFeed {
  format: 'rss' | 'atom' | 'rdf' | 'json';
  title?: string;
  /** True when the title is markup (RSS, Atom html/xhtml), false for Atom type="text". */
  titleIsHtml: boolean;
  link?: string;
  /** Where the feed says it lives (atom:link rel="self"), as written. */
  selfLink?: string;
  /** xml:base of the root and channel/feed, in order, each relative to the one before. */
  bases: string[];
  ttlMinutes?: number;
  items: RawItem[];
  /** Posts left out past the per-feed cap. */
  dropped: number;
}

export interface RawItem {
  title?: string;
  titleIsHtml: boolean;
  link?: string;
  guid?: string;
  /** False when the guid says isPermaLink="false". */
  guidIsLink: boolean;
  /** xml:base of the entry, then of its link, relative to the feed's. */
  bases: string[];
  contentBases: string[];
  date?: string;
  author?: string;
  /** HTML (text content already escaped). */
  html?: string;
  /** The post's own tags. */
  categories?: string[];
  /** Pictures the feed names for the post (media:thumbnail/content/group, itunes:image, image enclosures), best first. */
  images?: Array<{ url: string; alt?: string; width?: number; height?: number }>;
  /** Attachments: RSS <enclosure>, Atom link rel="enclosure", media:content that is audio or video. */
  enclosures?: Array<{ url: string; type?: string; length?: number }>;
}

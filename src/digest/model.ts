/** What a digest says, independent of how it is rendered. */
export interface DigestPost {
  id: number;
  title: string;
  url: string | null;
  author: string | null;
  /** When it was published, else when we first saw it. */
  date: Date;
  excerpt: string;
}

export interface DigestSource {
  title: string;
  siteUrl: string | null;
  posts: DigestPost[];
}

export interface DigestCategory {
  name: string;
  title: string;
  sources: DigestSource[];
  /** Posts of this category in the edition: more than `sources` hold when only the head was loaded. */
  postCount: number;
}

export interface Digest {
  editionId: number;
  /** Unguessable content hash: names the edition's page on the web server. */
  editionKey: string;
  categories: DigestCategory[];
  postCount: number;
}

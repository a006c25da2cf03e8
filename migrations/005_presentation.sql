-- What readers see: per category, whether it is public on the web and how its posts
-- are shown; per feed, whether it appears in the river; per post, its picture and
-- enclosures. Shared by the digest (email) and the planet (web) so both show a
-- category the same way. Runs unchanged on PostgreSQL 15+ and on PGlite.

ALTER TABLE categories
  -- false: mailed to subscribers who chose it, but not on the public river, feeds or archive.
  ADD COLUMN public      boolean NOT NULL DEFAULT true,
  -- How a post is shown: its title only, a plain-text excerpt, or the full sanitized post.
  ADD COLUMN display     text NOT NULL DEFAULT 'excerpt' CHECK (display IN ('titles', 'excerpt', 'full')),
  -- At most this many posts of one source per category in one email; the rest are counted.
  ADD COLUMN source_cap  smallint NOT NULL DEFAULT 3 CHECK (source_cap BETWEEN 1 AND 100),
  -- Whether a post's picture is shown as a thumbnail beside it in the email.
  ADD COLUMN thumbnails  boolean NOT NULL DEFAULT true;

-- A hidden feed is still fetched and mailed, but left out of the public river and feeds.
ALTER TABLE feeds ADD COLUMN hidden boolean NOT NULL DEFAULT false;

ALTER TABLE items
  -- The post's picture (https only): an enclosure, media:thumbnail/content, itunes:image,
  -- else the first real image of its content.
  ADD COLUMN image_url   text,
  ADD COLUMN image_alt   text,
  -- [{ "url": ..., "type": ..., "length": ... }]: audio, video and other attachments.
  ADD COLUMN enclosures  jsonb NOT NULL DEFAULT '[]';

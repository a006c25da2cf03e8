-- The public river reads posts newest first by their date (published, else first seen),
-- with the id as tie-break for "Older posts" (keyset pagination): one index serves the
-- whole-site river, each page's next page and the feeds out. Per source, the sources
-- page reads the newest post of each feed.
CREATE INDEX items_river ON items ((coalesce(published_at, first_seen_at)) DESC, id DESC);
CREATE INDEX items_feed_river ON items (feed_id, (coalesce(published_at, first_seen_at)) DESC, id DESC);

-- Filter rules, a post's own tags, and where an imported subscriber consented.
-- Runs unchanged on PostgreSQL 15+ and on PGlite (PostgreSQL 18).

-- Keep/block rules, for one feed (feed_id) or the whole site (feed_id NULL). A post
-- matching any block rule is filtered; where keep rules apply, a post matching none of
-- them is filtered too.
CREATE TABLE filter_rules (
  id          serial PRIMARY KEY,
  feed_id     integer REFERENCES feeds (id) ON DELETE CASCADE,
  action      text NOT NULL CHECK (action IN ('keep', 'block')),
  field       text NOT NULL CHECK (field IN ('title', 'content', 'author', 'category', 'url')),
  -- word: a whole word or phrase, any case; regex: a JavaScript regular expression, checked when saved.
  kind        text NOT NULL CHECK (kind IN ('word', 'regex')),
  pattern     text NOT NULL CHECK (length(pattern) BETWEEN 1 AND 500),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filter_rules_feed_idx ON filter_rules (feed_id);

ALTER TABLE items
  -- The post's own tags (RSS <category>, Atom category term, JSON Feed tags).
  ADD COLUMN categories  text[] NOT NULL DEFAULT '{}',
  -- Set when a rule filtered the post: stored, never mailed or shown. Says which rule.
  ADD COLUMN filtered_by text;

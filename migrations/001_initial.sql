-- feed-digest schema. Runs unchanged on PostgreSQL 15+ and on PGlite (PostgreSQL 18).

CREATE TABLE categories (
  id          serial PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  title       text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feeds (
  id                   serial PRIMARY KEY,
  category_id          integer NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
  url                  text NOT NULL UNIQUE,
  title                text,
  site_url             text,
  etag                 text,
  last_modified        text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  last_fetched_at      timestamptz,
  last_success_at      timestamptz,
  next_fetch_at        timestamptz NOT NULL DEFAULT now(),
  -- 'ok', 'not_modified' or 'error'; last_error says why in one line.
  last_status          text,
  last_error           text,
  consecutive_failures integer NOT NULL DEFAULT 0,
  disabled_at          timestamptz,
  disabled_reason      text
);
CREATE INDEX feeds_category_idx ON feeds (category_id);

CREATE TABLE items (
  id            bigserial PRIMARY KEY,
  feed_id       integer NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
  -- guid, else link, else a hash of title and date: unique per feed.
  guid          text NOT NULL,
  url           text,
  title         text NOT NULL,
  author        text,
  content_html  text NOT NULL DEFAULT '',
  excerpt       text NOT NULL DEFAULT '',
  content_hash  text NOT NULL,
  published_at  timestamptz,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz,
  -- false for the old posts of a feed's first fetch: stored, never mailed.
  mailable      boolean NOT NULL DEFAULT true,
  -- The inserting transaction: digests cut off at a snapshot's xmin, so a post
  -- committed late by another process is never skipped (see src/digest/cursor.ts).
  created_xid   xid8 NOT NULL DEFAULT pg_current_xact_id(),
  UNIQUE (feed_id, guid)
);
CREATE INDEX items_created_xid_idx ON items (created_xid);
CREATE INDEX items_first_seen_idx ON items (first_seen_at);

CREATE TABLE subscribers (
  id               serial PRIMARY KEY,
  email            text NOT NULL,
  email_normalized text NOT NULL UNIQUE,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'active', 'paused', 'unsubscribed', 'bounced')),
  timezone         text NOT NULL DEFAULT 'UTC',
  delivery_hour    smallint NOT NULL DEFAULT 7 CHECK (delivery_hour BETWEEN 0 AND 23),
  frequency        text NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly')),
  -- ISO weekday for weekly digests: 1 = Monday ... 7 = Sunday.
  weekly_day       smallint NOT NULL DEFAULT 1 CHECK (weekly_day BETWEEN 1 AND 7),
  -- Posts inserted by transactions before this xid have been considered for this subscriber.
  items_cursor     xid8,
  bounce_count     integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  confirmed_at     timestamptz,
  unsubscribed_at  timestamptz
);
CREATE INDEX subscribers_status_idx ON subscribers (status);

CREATE TABLE subscriber_categories (
  subscriber_id integer NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  category_id   integer NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
  PRIMARY KEY (subscriber_id, category_id)
);
CREATE INDEX subscriber_categories_category_idx ON subscriber_categories (category_id);

-- The content of one digest, shared by every subscriber who gets the same posts.
CREATE TABLE editions (
  id           bigserial PRIMARY KEY,
  key          text NOT NULL UNIQUE,
  category_ids integer[] NOT NULL,
  item_ids     bigint[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Filled by the render step; the HTML and text hold {{placeholders}} for each subscriber's links.
  subject      text,
  html         text,
  text         text,
  rendered_at  timestamptz
);

-- The ledger: one row per subscriber per period, created idempotently, then sent once.
CREATE TABLE deliveries (
  id              bigserial PRIMARY KEY,
  subscriber_id   integer NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  -- The instant this digest was due; with subscriber_id the unique key of the ledger.
  period          timestamptz NOT NULL,
  edition_id      bigint REFERENCES editions (id),
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until     timestamptz,
  last_error      text,
  message_id      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  UNIQUE (subscriber_id, period)
);
CREATE INDEX deliveries_queue_idx ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_sent_at_idx ON deliveries (sent_at);

-- One row per job run, for `feed-digest status`.
CREATE TABLE runs (
  id          serial PRIMARY KEY,
  kind        text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  summary     jsonb
);

-- Web sign-up: consent records and the per-address limit on confirmation mails.
-- Runs unchanged on PostgreSQL 15+ and on PGlite (PostgreSQL 18).

-- One row per thing a person asked for (sign up, confirm, change, pause, leave), kept as
-- evidence of consent: when, from where, and exactly what was chosen. Deleted with the
-- subscriber (a purged sign-up leaves nothing behind).
CREATE TABLE consents (
  id            bigserial PRIMARY KEY,
  subscriber_id integer NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  -- signup, confirm, preferences, pause, resume, unsubscribe, resubscribe
  action        text NOT NULL,
  -- web (a page), one-click (RFC 8058 POST), mail (the mailto: List-Unsubscribe), cli
  channel       text NOT NULL,
  ip            text,
  user_agent    text,
  -- What the person chose: categories, hour, time zone, frequency.
  choices       jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_subscriber_idx ON consents (subscriber_id, created_at);

-- At most one confirmation mail per address per day, across processes.
ALTER TABLE subscribers ADD COLUMN confirmation_sent_at timestamptz;

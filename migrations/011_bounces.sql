-- Bounces, complaints and unsubscribes that arrive after the send (by mail, IMAP or a
-- provider's webhook). Runs unchanged on PostgreSQL 15+ and on PGlite (PostgreSQL 18).

-- One row per inbound outcome that concerned a known subscriber, with what it did and
-- the evidence it was based on (the status code, the diagnostic, where it came from).
CREATE TABLE bounce_events (
  id            bigserial PRIMARY KEY,
  subscriber_id integer NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  delivery_id   bigint REFERENCES deliveries (id) ON DELETE SET NULL,
  -- hard, soft, complaint, unsubscribe, auto-reply, delivered
  kind          text NOT NULL,
  -- mail (stdin), imap, ses, mailgun, postmark
  source        text NOT NULL,
  -- bounced, unsubscribed, counted (a soft bounce under the limit), none
  action        text NOT NULL,
  dsn_status    text,
  diagnostic    text,
  evidence      text NOT NULL,
  -- The same report seen twice (an IMAP move that failed, a replayed webhook) acts once.
  event_key     text UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bounce_events_subscriber_idx ON bounce_events (subscriber_id, kind, created_at);
CREATE INDEX bounce_events_created_idx ON bounce_events (created_at, kind);

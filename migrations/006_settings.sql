-- Values that belong to the installation rather than to a feed or a subscriber, shared
-- by every instance on this database: e.g. 'message_id_key', the random part of every
-- Message-ID, so that two installs (whose ledgers both start at 1) never repeat one.
-- Rows are made by whichever instance needs them first (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE settings (
  name  text PRIMARY KEY,
  value text NOT NULL
);

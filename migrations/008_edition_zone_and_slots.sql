-- Editions are split by the reader's time zone, so that the date in the header and
-- beside each post is the reader's own while one rendering still serves every
-- subscriber of the edition. The zone is part of the edition's key.
ALTER TABLE editions ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

-- The random part of this rendering's personal-value placeholders (see
-- src/mail/personal.ts): feed or admin text cannot guess it, so it can never
-- produce a placeholder that delivery would fill with a subscriber's links.
ALTER TABLE editions ADD COLUMN slot_nonce text;

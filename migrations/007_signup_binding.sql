-- A confirmation link is bound to one sign-up and works once (issue 11): the sign-up
-- (its consent record) waiting to be confirmed. A newer sign-up replaces it, so an older
-- link stops working; confirming clears it, so a link cannot be replayed.
-- Runs unchanged on PostgreSQL 15+ and on PGlite (PostgreSQL 18).
ALTER TABLE subscribers ADD COLUMN pending_signup_id bigint;

-- reference-server: sign-in throttling per email and client address.
--
-- One row per counted failure: an attempt reserves its row before the password is checked, and a
-- successful sign-in deletes the rows of its email and address. More than 10 rows for one email
-- and address, or more than 100 for one email, within the 15-minute window refuse further
-- attempts. Rows of 0.1 (no address) keep counting towards their email's total until they age out.
ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_client ON login_failures (email, client, failed_at);

-- When the last `login.throttled` audit entry was written for an email: at most one per window.
CREATE TABLE login_throttle_notes (
    email      TEXT PRIMARY KEY NOT NULL,
    noted_at   BIGINT NOT NULL
);

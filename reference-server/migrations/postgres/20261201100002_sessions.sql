-- reference-server: sessions that can end, and what the staff console will need on users.
--
-- A session token (JWT) carries its session's id (`sid`); the session guard reads this row on
-- every request, so ending a session (sign-out, password change, a disabled user) is seen by
-- every instance at once. `subject_kind` is 'user' (a partner's portal user) or, later, 'staff'.
-- Rows are bounded: expired and ended sessions are pruned, and each subject keeps at most a fixed
-- number of live sessions (the oldest end first).

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX sessions_subject ON sessions (subject_kind, subject_id, created_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Flags are 0/1 (portable across SQLite and PostgreSQL through sqlx's Any driver).
ALTER TABLE users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;

-- reference-server: staff accounts (the admin console), staff actors in the audit trail, and
-- sign-in throttling kept apart for partners and staff.
--
-- A staff member's TOTP secret is stored sealed (XChaCha20-Poly1305 under a key from the
-- configuration, bound to the staff id), never in clear: a copy of the database alone gives no
-- working codes. `totp_last_step` is the last accepted 30-second step: a code of that step or an
-- earlier one is refused (each code works once). Flags are 0/1, times BIGINT Unix seconds.
CREATE TABLE staff (
    id              TEXT PRIMARY KEY NOT NULL,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT NOT NULL,
    totp_last_step  BIGINT,
    disabled        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    last_login_at   BIGINT
);

-- A staff actor: actor_kind 'staff', its id here, its email in actor_email. Staff sign-ins are
-- the staff trail: entries with no tenant.
ALTER TABLE audit_log ADD COLUMN actor_staff_id TEXT;

-- Sign-in failures are counted per realm ('user' for partners, 'staff'), so a partner's email
-- and a staff member's never share a count. The throttle notes only say whether a window's first
-- refusal was audited yet: they are rebuilt keyed by realm (a note lost here at most lets one
-- more `login.throttled` entry be written in the current window).
ALTER TABLE login_failures ADD COLUMN realm TEXT NOT NULL DEFAULT 'user';
DROP TABLE login_throttle_notes;
CREATE TABLE login_throttle_notes (
    realm     TEXT NOT NULL,
    email     TEXT NOT NULL,
    noted_at  BIGINT NOT NULL,
    PRIMARY KEY (realm, email)
);

-- reference-server: who acted, as a kind. `actor_kind` is 'user' (with actor_user_id and
-- actor_email), later 'staff', or NULL for an anonymous sign-in attempt.
ALTER TABLE audit_log ADD COLUMN actor_kind TEXT;

-- 0.1 wrote the targeted user of a failed or throttled sign-in as its actor. Nobody was signed in:
-- the actor is anonymous, and the email tried (and the user it belongs to) moves to `detail`, where
-- new entries keep it too.
UPDATE audit_log
   SET detail = json_object('email', actor_email, 'user_id', actor_user_id),
       actor_user_id = NULL,
       actor_email = NULL
 WHERE action IN ('login.failed', 'login.throttled');
UPDATE audit_log SET actor_kind = 'user' WHERE actor_user_id IS NOT NULL;

-- Retention (`audit_retention_days`) deletes by age.
CREATE INDEX audit_log_at ON audit_log (at);

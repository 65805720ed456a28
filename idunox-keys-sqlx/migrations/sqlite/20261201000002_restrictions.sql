-- Restricted keys: scopes and IP allow-lists. NULL = unrestricted. Stored as space-separated
-- text (scope names and CIDRs hold no spaces), in the order the key was given them.
ALTER TABLE credentials ADD COLUMN scopes TEXT;
ALTER TABLE credentials ADD COLUMN allowed_ips TEXT;

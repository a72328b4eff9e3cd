-- Liaison schema, version 9: who made an admin change (docs/AUDIT.md, "Admin changes").
--
-- `actor` is the operator a `liaisonctl` change is attributed to: the `--actor NAME` given, else
-- the operating-system user (SUDO_USER under sudo, else the effective user). It is NULL for the
-- events the daemon records about clients (authentications, refusals), whose subject is `account`.
ALTER TABLE security_events ADD COLUMN actor text;

-- `liaisonctl audit events --actor NAME` looks up one operator's changes, newest first.
CREATE INDEX security_events_actor_at ON security_events (actor, at) WHERE actor IS NOT NULL;

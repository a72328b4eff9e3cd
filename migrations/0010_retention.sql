-- Liaison schema, version 10: retention with legal holds, and sealed security events (docs/AUDIT.md,
-- "Retention" and "Security events").
--
-- A policy keeps the messages of a topic pattern for N days; where several policies match a
-- topic, the longest keep wins; a topic no policy matches is kept for ever. A legal hold (a
-- pattern, a seq range, or both) overrides every policy until it is released. Purging runs in
-- small transactions (never under the append lock), only over messages already covered by a
-- signed checkpoint, and keeps the log verifiable: the purged message's sealed leaf stays in
-- audit_leaves with its canonical encoding (no payload, only the payload's SHA-256) and the
-- policy that allowed the purge, so `audit verify` still rebuilds every root and checks that the
-- purge was allowed. A row deleted without such a record is still reported as deleted.

CREATE TABLE retention_policies (
    pattern    text PRIMARY KEY CHECK (length(pattern) BETWEEN 1 AND 255),
    keep_days  integer NOT NULL CHECK (keep_days BETWEEN 1 AND 36500),
    set_by     text NOT NULL,
    set_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A hold covers the messages whose topic matches `pattern` (when set) and whose seq lies in
-- first_seq..last_seq (when set). Released holds stay, so `audit verify` can check that no purge
-- happened while one was in force: placed_at ≤ purged_at < released_at means the purge broke it.
CREATE TABLE retention_holds (
    id           bigserial PRIMARY KEY,
    pattern      text CHECK (pattern IS NULL OR length(pattern) BETWEEN 1 AND 255),
    first_seq    bigint,
    last_seq     bigint,
    reason       text NOT NULL CHECK (reason <> ''),
    placed_by    text NOT NULL,
    placed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    released_by  text,
    released_at  timestamptz,
    CHECK (pattern IS NOT NULL OR first_seq IS NOT NULL),
    CHECK ((first_seq IS NULL) = (last_seq IS NULL)),
    CHECK (first_seq IS NULL OR (first_seq >= 1 AND first_seq <= last_seq)),
    CHECK ((released_at IS NULL) = (released_by IS NULL))
);

-- One row per purge pass that purged or expired something: who ran it (`liaisond <node>` or the
-- operator of `liaisonctl retention run`), when, and how much.
CREATE TABLE retention_purges (
    id           bigserial PRIMARY KEY,
    run_by       text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    messages     bigint NOT NULL DEFAULT 0,
    dedupe_keys  bigint NOT NULL DEFAULT 0
);

-- What a pass purged, per batch and policy: `messages` messages with seqs in first_seq..last_seq
-- (other seqs of that range were kept or purged by another policy).
CREATE TABLE retention_purged_ranges (
    purge_id   bigint NOT NULL REFERENCES retention_purges (id),
    pattern    text NOT NULL,
    keep_days  integer NOT NULL,
    first_seq  bigint NOT NULL,
    last_seq   bigint NOT NULL,
    messages   bigint NOT NULL CHECK (messages > 0),
    PRIMARY KEY (purge_id, pattern, first_seq)
);

-- A purged message's leaf: when, by which pass, under which policy, and its canonical leaf
-- encoding (docs/AUDIT.md, "Leaf encoding"; it hashes to `hash`, so its topic and publication
-- time are bound to the signed root).
ALTER TABLE audit_leaves
    ADD COLUMN purge_id bigint REFERENCES retention_purges (id),
    ADD COLUMN purged_at timestamptz,
    ADD COLUMN purge_pattern text,
    ADD COLUMN purge_keep_days integer,
    ADD COLUMN purged_leaf bytea,
    ADD CHECK ((purge_id IS NULL) = (purged_at IS NULL) AND (purge_id IS NULL) = (purged_leaf IS NULL)
        AND (purge_id IS NULL) = (purge_pattern IS NULL) AND (purge_id IS NULL) = (purge_keep_days IS NULL));

-- Security events sealed like messages (docs/AUDIT.md, "Security events").
--
-- Their ids come from a bigserial; without more, an event with a lower id could commit after one
-- with a higher id, and a sealer reading "after the last sealed id" would pass over it for good.
-- A statement trigger takes a transaction-level advisory lock before any row of an INSERT is
-- formed (so before its ids are drawn) and holds it to the commit: events commit in id order,
-- as messages do under liaison_append's lock. Their rate (authentications, refusals, admin
-- changes) makes the lock cheap; callers insert events last in their transactions.
CREATE FUNCTION liaison_serialise_security_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7420005);
    RETURN NULL;
END
$$;

CREATE TRIGGER security_events_serialise
    BEFORE INSERT ON security_events
    FOR EACH STATEMENT EXECUTE FUNCTION liaison_serialise_security_events();

-- The security events' own tree: `seq` holds the event's id (the same columns as audit_leaves,
-- so one piece of code seals and verifies both), with its own signed checkpoints.
CREATE TABLE audit_event_leaves (
    seq         bigint PRIMARY KEY,
    leaf_index  bigint NOT NULL UNIQUE CHECK (leaf_index >= 0),
    hash        bytea NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE audit_event_checkpoints (
    tree_size     bigint PRIMARY KEY CHECK (tree_size > 0),
    last_seq      bigint NOT NULL UNIQUE,
    root          bytea NOT NULL CHECK (length(root) = 32),
    signed_at_us  bigint NOT NULL,
    key_id        text NOT NULL REFERENCES audit_keys (key_id),
    signature     bytea NOT NULL CHECK (length(signature) = 64),
    frontier      bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- `liaisonctl audit verify` as the auditor (migration 0008's role, docs/AUDIT.md) reads these too.
GRANT SELECT ON retention_policies, retention_holds, retention_purges, retention_purged_ranges,
    audit_event_leaves, audit_event_checkpoints, security_events TO liaison_auditor;

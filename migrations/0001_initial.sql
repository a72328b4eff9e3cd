-- Liaison schema, version 1: accounts, credentials, the message log, durable cursors.
-- Applied by `liaisonctl migrate` in one transaction and recorded in schema_migrations.

CREATE TABLE accounts (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    kind          text NOT NULL CHECK (kind IN ('entity', 'office')),
    parent        text REFERENCES accounts (name),
    country       text CHECK (country IS NULL OR country ~ '^[a-z]{2}$'),
    role          text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    display_name  text NOT NULL DEFAULT '',
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'entity' OR parent IS NOT NULL)
);

-- Tokens are never stored: only their SHA-256.
CREATE TABLE credentials (
    id          bigserial PRIMARY KEY,
    account     text NOT NULL REFERENCES accounts (name),
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX credentials_account ON credentials (account);

-- The log of record. seq comes from message_seq, assigned and committed in one order
-- (see liaison_append). account has no foreign key: accounts are disabled, never deleted,
-- and a lookup per inserted row would tax the write path.
CREATE SEQUENCE message_seq AS bigint;

CREATE TABLE messages (
    seq           bigint PRIMARY KEY,
    topic         text NOT NULL,
    account       text NOT NULL,
    published_at  timestamptz NOT NULL,
    headers       jsonb NOT NULL DEFAULT '{}',
    payload       bytea NOT NULL
);
-- Replay by pattern: a topic prefix range (LIKE 'field.mm.%') then seq order.
CREATE INDEX messages_topic_seq ON messages (topic text_pattern_ops, seq);
-- Audit by account, and replay from a point in time.
CREATE INDEX messages_account_seq ON messages (account, seq);
CREATE INDEX messages_published_at ON messages (published_at);

-- Appends one batch in one statement (one round trip, one transaction when autocommitted).
-- A transaction-scoped advisory lock serialises seq assignment AND commit across every writer on
-- this database (several daemons included): the lock is released only by the commit, so
-- batches commit in seq order and a reader that has seen seq n never later finds a lower seq
-- appearing (DESIGN.md invariant 2). Returns the first seq of the batch; row i gets first + i.
CREATE FUNCTION liaison_append(p_topics text[], p_accounts text[], p_headers text[], p_payloads bytea[])
RETURNS TABLE (first_seq bigint, published_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n      integer := coalesce(array_length(p_topics, 1), 0);
    first  bigint;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(7420001);
    first := nextval('message_seq');
    IF n > 1 THEN
        PERFORM setval('message_seq', first + n - 1);
    END IF;
    INSERT INTO messages (seq, topic, account, published_at, headers, payload)
    SELECT first + u.ord - 1, u.t, u.a, now(), u.h::jsonb, u.p
    FROM unnest(p_topics, p_accounts, p_headers, p_payloads) WITH ORDINALITY AS u (t, a, h, p, ord);
    RETURN QUERY SELECT first, now();
END
$$;

-- Server-side cursors of durable consumers, one per (account, name).
CREATE TABLE durable_cursors (
    account        text NOT NULL REFERENCES accounts (name),
    name           text NOT NULL,
    pattern        text NOT NULL,
    acked_seq      bigint NOT NULL DEFAULT 0,
    delivered_seq  bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, name)
);

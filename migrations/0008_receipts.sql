-- Liaison schema, version 8: receipts (who received and who acknowledged each message) and the
-- auditors' read-only role and views (docs/AUDIT.md, "Receipts" and "Auditor's SQL").
--
-- Receipts are kept as seq RANGES, never a row per message per recipient: the daemon writes one
-- row per (subscription, event, flush interval). A row means: every message with
-- first_seq <= seq <= last_seq whose topic matches `pattern` and whose class is within
-- `clearance` had `event` happen for this subscription between first_at and last_at. The views
-- below turn ranges back into per-message receipts.

CREATE TABLE receipt_ranges (
    id            bigserial PRIMARY KEY,
    account       text NOT NULL,
    -- The durable consumer's name; NULL for a plain subscription.
    consumer      text,
    -- The daemon's connection id and the peer's ip:port, e.g. 'c17/10.1.2.3:50122'.
    connection    text NOT NULL,
    -- The subscription's sid on that connection.
    subscription  text NOT NULL,
    pattern       text NOT NULL,
    clearance     text NOT NULL
        CHECK (clearance IN ('public', 'internal', 'confidential', 'strictly-confidential')),
    event         text NOT NULL CHECK (event IN ('delivered', 'acked')),
    first_seq     bigint NOT NULL,
    last_seq      bigint NOT NULL,
    first_at      timestamptz NOT NULL,
    last_at       timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (first_seq <= last_seq),
    CHECK (first_at <= last_at)
);
-- "Which ranges cover seq s": queries must repeat the expression literally.
CREATE INDEX receipt_ranges_seqs ON receipt_ranges USING gist (int8range(first_seq, last_seq, '[]'));
CREATE INDEX receipt_ranges_account ON receipt_ranges (account, last_seq);

-- The regex of a topic pattern, as TopicPattern.sqlRegex builds it (Sources/LiaisonStore/
-- TopicPattern+SQL.swift): literal tokens as they are, `*` one token, a final `>` one or more.
CREATE FUNCTION liaison_pattern_regex(p_pattern text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT '^' || string_agg(CASE t WHEN '*' THEN '[^.]+' WHEN '>' THEN '.+' ELSE t END, '\.' ORDER BY n) || '$'
    FROM unnest(string_to_array(p_pattern, '.')) WITH ORDINALITY AS u (t, n)
$$;

-- Whether a topic is selected by a pattern (TopicPattern.matches).
CREATE FUNCTION liaison_topic_matches(p_topic text, p_pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT p_topic ~ liaison_pattern_regex(p_pattern)
$$;

-- The order of the classes (Classification): public 0 < internal 1 < confidential 2 <
-- strictly-confidential 3; NULL for an unknown name (never within a clearance but the top one).
CREATE FUNCTION liaison_class_rank(p_class text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE coalesce(p_class, 'internal')
        WHEN 'public' THEN 0 WHEN 'internal' THEN 1 WHEN 'confidential' THEN 2
        WHEN 'strictly-confidential' THEN 3 END
$$;

-- Whether a message of this class may go to a reader of this clearance (Permissions.isCleared;
-- the read path's classCondition lets only a top-cleared reader see an unknown class).
CREATE FUNCTION liaison_cleared(p_class text, p_clearance text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_clearance = 'strictly-confidential'
        OR coalesce(liaison_class_rank(p_class) <= liaison_class_rank(p_clearance), false)
$$;

-- Whether an account may read a topic by its rules now (Permissions.mayRead): an admin always;
-- otherwise an allow-sub rule matches and no deny-sub rule does.
CREATE FUNCTION liaison_may_read(p_account text, p_topic text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM accounts a WHERE a.name = p_account AND a.role = 'admin')
        OR (EXISTS (SELECT 1 FROM access_rules r
                    WHERE r.account = p_account AND r.action = 'sub' AND r.effect = 'allow'
                      AND liaison_topic_matches(p_topic, r.pattern))
            AND NOT EXISTS (SELECT 1 FROM access_rules r
                            WHERE r.account = p_account AND r.action = 'sub' AND r.effect = 'deny'
                              AND liaison_topic_matches(p_topic, r.pattern)))
$$;

-- Every message, without needing the table (payload included, and its size).
CREATE VIEW audit_messages AS
SELECT m.seq, m.topic, m.account AS publisher, m.published_at,
       coalesce(m.headers->>'class', 'internal') AS class,
       coalesce(m.headers->>'prio', 'routine') AS prio,
       m.headers, octet_length(m.payload) AS payload_bytes, m.payload
FROM messages m;

-- Per message and subscription that it was delivered to (first deliveries; redeliveries are
-- counted in consumer_pending and dead_letters). delivered_at is the end of the covering range's
-- time span: the message was delivered no later than that, and no earlier than delivered_from.
CREATE VIEW audit_deliveries AS
SELECT m.seq, m.topic, r.account, r.consumer, r.connection, r.subscription,
       min(r.first_at) AS delivered_from, min(r.last_at) AS delivered_at
FROM messages m
JOIN receipt_ranges r
  ON int8range(r.first_seq, r.last_seq, '[]') @> m.seq
 AND r.event = 'delivered'
 AND liaison_topic_matches(m.topic, r.pattern)
 AND liaison_cleared(m.headers->>'class', r.clearance)
GROUP BY m.seq, m.topic, r.account, r.consumer, r.connection, r.subscription;

-- Per message and durable consumer that acknowledged it. A message the consumer gave up on (a
-- dead letter) is settled but NOT acknowledged, and an acknowledgement counts only for a message
-- that was delivered to that consumer.
CREATE VIEW audit_acknowledgements AS
SELECT m.seq, m.topic, r.account, r.consumer,
       min(r.first_at) AS acked_from, min(r.last_at) AS acked_at
FROM messages m
JOIN receipt_ranges r
  ON int8range(r.first_seq, r.last_seq, '[]') @> m.seq
 AND r.event = 'acked'
 AND r.consumer IS NOT NULL
 AND liaison_topic_matches(m.topic, r.pattern)
 AND liaison_cleared(m.headers->>'class', r.clearance)
WHERE NOT EXISTS (SELECT 1 FROM dead_letters x
                  WHERE x.account = r.account AND x.consumer = r.consumer AND x.seq = m.seq)
  AND EXISTS (SELECT 1 FROM receipt_ranges d
              WHERE int8range(d.first_seq, d.last_seq, '[]') @> m.seq
                AND d.event = 'delivered' AND d.account = r.account AND d.consumer = r.consumer
                AND liaison_topic_matches(m.topic, d.pattern)
                AND liaison_cleared(m.headers->>'class', d.clearance))
GROUP BY m.seq, m.topic, r.account, r.consumer;

-- Per message and account: entitled (see below), when first delivered to any of its
-- subscriptions, when first acknowledged by any of its durable consumers, and through which.
-- Entitled: an enabled, non-admin account other than the publisher, whose rules let it read the
-- topic and whose clearance covers the message's class. Admins and the publisher are listed only
-- when something was delivered to them. status: acknowledged, delivered (not acknowledged) or
-- pending (entitled, nothing delivered).
CREATE VIEW audit_receipts AS
SELECT m.seq, m.topic, m.account AS publisher, m.published_at,
       coalesce(m.headers->>'class', 'internal') AS class,
       coalesce(m.headers->>'prio', 'routine') AS prio,
       x.account, x.kind, x.country, x.entitled, x.delivered_at, x.acked_at,
       CASE WHEN x.acked_at IS NOT NULL THEN 'acknowledged'
            WHEN x.delivered_at IS NOT NULL THEN 'delivered'
            ELSE 'pending' END AS status,
       coalesce(x.via, '{}') AS via
FROM messages m
CROSS JOIN LATERAL (
    SELECT a.name AS account, a.kind, a.country, g.delivered_at, g.acked_at, g.via,
           (a.enabled AND a.role <> 'admin' AND a.name <> m.account
            AND liaison_cleared(m.headers->>'class', a.clearance)
            AND liaison_may_read(a.name, m.topic)) AS entitled
    FROM accounts a
    LEFT JOIN (
        -- The ranges covering this message, looked up once per message (not per account), per
        -- recipient (a durable consumer, or a plain subscription on a connection), then per account.
        SELECT c.account, min(c.delivered_at) AS delivered_at,
               min(c.acked_at) FILTER (WHERE c.delivered_at IS NOT NULL AND NOT c.dead) AS acked_at,
               array_agg(c.via ORDER BY c.via) FILTER (WHERE c.delivered_at IS NOT NULL) AS via
        FROM (
            SELECT r.account, coalesce('durable:' || r.consumer, 'sid:' || r.subscription || '@' || r.connection) AS via,
                   min(r.last_at) FILTER (WHERE r.event = 'delivered') AS delivered_at,
                   min(r.last_at) FILTER (WHERE r.event = 'acked' AND r.consumer IS NOT NULL) AS acked_at,
                   EXISTS (SELECT 1 FROM dead_letters x
                           WHERE x.account = r.account AND x.consumer = r.consumer AND x.seq = m.seq) AS dead
            FROM receipt_ranges r
            WHERE int8range(r.first_seq, r.last_seq, '[]') @> m.seq
              AND liaison_topic_matches(m.topic, r.pattern)
              AND liaison_cleared(m.headers->>'class', r.clearance)
            GROUP BY r.account, r.consumer, r.subscription, r.connection
        ) c
        GROUP BY c.account
    ) g ON g.account = a.name
) x
WHERE x.entitled OR x.delivered_at IS NOT NULL;

-- What a desk officer checks after a flash alert: entitled accounts that have not acknowledged.
CREATE VIEW audit_pending AS
SELECT seq, topic, publisher, published_at, class, prio, account, kind, country, delivered_at, status
FROM audit_receipts
WHERE entitled AND acked_at IS NULL;

CREATE VIEW audit_dead_letters AS
SELECT id, account, consumer, seq, topic, deliveries, reason, created_at, replay_requested_at, replayed_at
FROM dead_letters;

-- Authentications, refusals, rule and credential changes. `actor` (the operator of an admin
-- change) is a column migration 0009 adds after this one; read through the row's JSON it is NULL
-- before that migration and the column's value after it, so this view needs no re-creation.
CREATE VIEW audit_security_events AS
SELECT s.id, s.at, s.kind, s.account, to_jsonb(s)->>'actor' AS actor, s.remote, s.reason
FROM security_events s;

-- The auditors' role: read the views (and what `audit verify` reads: the log, the leaves, the
-- checkpoints and keys), change nothing. NOLOGIN: grant it to a login role
-- (`GRANT liaison_auditor TO alice;`). Created once per cluster; a second database reuses it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'liaison_auditor') THEN
        CREATE ROLE liaison_auditor NOLOGIN;
    END IF;
END
$$;
GRANT SELECT ON audit_messages, audit_deliveries, audit_acknowledgements, audit_receipts, audit_pending,
    audit_dead_letters, audit_security_events TO liaison_auditor;
-- accounts and access_rules: the entitlement functions run with the caller's rights.
GRANT SELECT ON messages, accounts, access_rules, audit_leaves, audit_checkpoints, audit_keys TO liaison_auditor;

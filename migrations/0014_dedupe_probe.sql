-- Liaison schema, version 14: the keyed path of liaison_append probes dedupe_keys by its
-- primary key for each keyed row instead of joining the batch against the table (issue 11).
--
-- Version 13 joined the batch (an unnest) against dedupe_keys. With the table growing by up to a
-- batch per commit, its statistics lag (autovacuum analyzes it only now and then), and the
-- planner chose a hash join over a sequential scan of the whole table: a profile of 16
-- publishers with id= on every publish showed 64 % of all samples in liaison_append, mostly
-- `heap_getnextslot` and `ExecHashGetHashValue`, and each run was slower than the one before as
-- the table grew (docs/BENCHMARKS.md, "2026-12-02 evening"). A correlated subquery is executed
-- as an index probe per row whatever the statistics say. Everything else is version 13's:
-- results, locking, the stamp taken under the lock and one NOTIFY per batch
-- (docs/ARCHITECTURE.md, invariants 2 and 13).

CREATE OR REPLACE FUNCTION liaison_append(
    p_topics text[], p_accounts text[], p_headers text[], p_payloads bytea[],
    p_keys text[], p_window_seconds bigint
)
RETURNS TABLE (seqs bigint[], duplicates boolean[], published_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n        integer := coalesce(array_length(p_topics, 1), 0);
    positions integer[];  -- per row: its place among the stored rows (1...), 0 for a repeat
    found    bigint[];    -- per row: the stored seq of its key within the window, else NULL
    firsts   integer[];   -- per row: the row of this batch where its (account, key) first occurs
    fresh    integer;
    first    bigint;
    horizon  timestamptz;
    stamp    timestamptz;
    out_seqs bigint[];
    out_dups boolean[];
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(7420001);
    -- Taken under the lock (not now(), the transaction's start): batches get their stamps in
    -- commit order, so published_at never goes backwards as seq grows and from=<time> is exact.
    stamp := clock_timestamp();

    IF p_keys IS NULL THEN
        first := nextval('message_seq');
        IF n > 1 THEN
            PERFORM setval('message_seq', first + n - 1);
        END IF;
        INSERT INTO messages (seq, topic, account, published_at, headers, payload)
        SELECT first + u.ord - 1, u.t, u.a, stamp, u.h::jsonb, u.p
        FROM unnest(p_topics, p_accounts, p_headers, p_payloads) WITH ORDINALITY AS u (t, a, h, p, ord);
        -- One notification per batch, never per message: its last seq wakes every daemon's
        -- log follower. Delivered at commit; a rolled-back batch notifies nobody.
        PERFORM pg_notify('liaison_log', (first + n - 1)::text);
        RETURN QUERY
        SELECT ARRAY(SELECT generate_series(first, first + n - 1)), array_fill(false, ARRAY[n]), stamp;
        RETURN;
    END IF;

    horizon := CASE WHEN coalesce(p_window_seconds, 0) > 0
                    THEN stamp - make_interval(secs => p_window_seconds) END;
    -- One pass over the batch: a primary-key probe per keyed row finds keys stored within the
    -- window, min() over (account, key) finds the first occurrence of each key in the batch,
    -- and the running count numbers the rows to store in batch order.
    SELECT array_agg(r.pos ORDER BY r.ord), array_agg(r.found ORDER BY r.ord),
           array_agg(r.first_ord ORDER BY r.ord), coalesce(max(r.pos), 0)
    INTO positions, found, firsts, fresh
    FROM (
        SELECT s.ord, s.found, s.first_ord,
               CASE WHEN s.stored THEN sum(s.stored::integer) OVER (ORDER BY s.ord) ELSE 0 END AS pos
        FROM (
            SELECT b.ord, b.found, b.first_ord, (b.found IS NULL AND b.ord = b.first_ord) AS stored
            FROM (
                SELECT u.ord,
                       CASE WHEN coalesce(u.k, '') <> ''
                            THEN min(u.ord) OVER (PARTITION BY u.a, u.k) ELSE u.ord END AS first_ord,
                       -- A correlated subquery, not a join: always one primary-key probe per
                       -- keyed row, whatever the statistics of a table that grows by a batch
                       -- at a time (a join was planned as a hash of the whole table).
                       CASE WHEN coalesce(u.k, '') <> '' THEN (
                           SELECT d.seq FROM dedupe_keys d
                           WHERE d.account = u.a AND d.key = u.k
                             AND (horizon IS NULL OR d.created_at >= horizon)
                       ) END AS found
                FROM unnest(p_accounts, p_keys) WITH ORDINALITY AS u (a, k, ord)
            ) b
        ) s
    ) r;

    IF fresh > 0 THEN
        first := nextval('message_seq');
        IF fresh > 1 THEN
            PERFORM setval('message_seq', first + fresh - 1);
        END IF;
    END IF;
    SELECT array_agg(CASE WHEN found[g] IS NOT NULL THEN found[g]
                          WHEN positions[g] > 0 THEN first + positions[g] - 1
                          ELSE first + positions[firsts[g]] - 1 END ORDER BY g),
           array_agg(positions[g] = 0 ORDER BY g)
    INTO out_seqs, out_dups
    FROM generate_series(1, n) AS g;

    IF fresh > 0 THEN
        INSERT INTO messages (seq, topic, account, published_at, headers, payload)
        SELECT first + positions[u.ord] - 1, u.t, u.a, stamp, u.h::jsonb, u.p
        FROM unnest(p_topics, p_accounts, p_headers, p_payloads) WITH ORDINALITY AS u (t, a, h, p, ord)
        WHERE positions[u.ord] > 0;

        INSERT INTO dedupe_keys (account, key, seq)
        SELECT u.a, u.k, first + positions[u.ord] - 1
        FROM unnest(p_accounts, p_keys) WITH ORDINALITY AS u (a, k, ord)
        WHERE coalesce(u.k, '') <> '' AND positions[u.ord] > 0
        ON CONFLICT (account, key) DO UPDATE SET seq = excluded.seq, created_at = stamp;

        PERFORM pg_notify('liaison_log', (first + fresh - 1)::text);
    END IF;

    RETURN QUERY SELECT out_seqs, out_dups, stamp;
END
$$;

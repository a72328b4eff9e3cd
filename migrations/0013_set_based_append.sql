-- Liaison schema, version 13: a set-based keyed path in liaison_append (issue 11).
--
-- Version 11 checked each keyed row with its own dedupe_keys lookup and found repeats inside the
-- batch with a loop over the earlier rows (O(n²) per batch), all under the append lock. Here one
-- statement joins the whole batch against dedupe_keys and numbers the rows with window
-- functions: the first occurrence of an (account, key) in the batch wins, later ones are repeats
-- and report its seq; a key stored within the window makes every row carrying it a repeat of the
-- stored seq. Results are those of version 11 (seqs, duplicate flags, stored rows, key rows).
--
-- Locking and ordering are unchanged (docs/ARCHITECTURE.md, invariants 2 and 13): the advisory
-- lock is taken before the dedupe check and seq assignment and held to commit, published_at is
-- read under it, and the batch sends at most one NOTIFY, its last stored seq.
--
-- Figures: docs/BENCHMARKS.md, "2026-12-02, append and replay SQL (issue 11)".

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
    -- One pass over the batch: the join finds keys stored within the window (primary key
    -- lookups), min() over (account, key) finds the first occurrence of each key in the batch,
    -- and the running count numbers the rows to store in batch order.
    SELECT array_agg(r.pos ORDER BY r.ord), array_agg(r.found ORDER BY r.ord),
           array_agg(r.first_ord ORDER BY r.ord), coalesce(max(r.pos), 0)
    INTO positions, found, firsts, fresh
    FROM (
        SELECT s.ord, s.found, s.first_ord,
               CASE WHEN s.stored THEN sum(s.stored::integer) OVER (ORDER BY s.ord) ELSE 0 END AS pos
        FROM (
            SELECT b.ord, d.seq AS found, b.first_ord, (d.seq IS NULL AND b.ord = b.first_ord) AS stored
            FROM (
                SELECT u.ord, u.a, u.k,
                       CASE WHEN coalesce(u.k, '') <> ''
                            THEN min(u.ord) OVER (PARTITION BY u.a, u.k) ELSE u.ord END AS first_ord
                FROM unnest(p_accounts, p_keys) WITH ORDINALITY AS u (a, k, ord)
            ) b
            LEFT JOIN dedupe_keys d
                   ON coalesce(b.k, '') <> '' AND d.account = b.a AND d.key = b.k
                  AND (horizon IS NULL OR d.created_at >= horizon)
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

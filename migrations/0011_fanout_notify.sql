-- Liaison schema, version 11: live fan-out across several daemons on one database.
--
-- Every daemon follows the committed log (docs/ARCHITECTURE.md, invariant 13) and fans out what
-- any daemon stored. This notification only wakes the followers: at most one per batch, sent
-- from inside liaison_append, payload the batch's last seq as decimal text, on channel
-- liaison_log. A follower that misses one (a broken connection) finds the rows by polling the
-- log, so nothing depends on its delivery.
--
-- NOTIFY takes a database-wide lock at commit; batches already commit one at a time under the
-- append lock, so it adds a queue write per batch, not contention (docs/BENCHMARKS.md,
-- "Fan-out across daemons").
--
-- The function is otherwise that of version 4.

CREATE OR REPLACE FUNCTION liaison_append(
    p_topics text[], p_accounts text[], p_headers text[], p_payloads bytea[],
    p_keys text[], p_window_seconds bigint
)
RETURNS TABLE (seqs bigint[], duplicates boolean[], published_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n         integer := coalesce(array_length(p_topics, 1), 0);
    out_seqs  bigint[];
    out_dups  boolean[];
    fresh     integer := 0;
    first     bigint;
    i         integer;
    j         integer;
    found_seq bigint;
    horizon   timestamptz;
    stamp     timestamptz;
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
        SELECT array_agg(first + g - 1 ORDER BY g), array_agg(false ORDER BY g), stamp
        FROM generate_series(1, n) AS g;
        RETURN;
    END IF;

    horizon := CASE WHEN coalesce(p_window_seconds, 0) > 0
                    THEN stamp - make_interval(secs => p_window_seconds) END;
    out_seqs := array_fill(0::bigint, ARRAY[n]);
    out_dups := array_fill(false, ARRAY[n]);
    -- Which rows are repeats: of a stored key within the window, or of an earlier row of this batch.
    FOR i IN 1..n LOOP
        IF coalesce(p_keys[i], '') <> '' THEN
            SELECT d.seq INTO found_seq FROM dedupe_keys d
            WHERE d.account = p_accounts[i] AND d.key = p_keys[i]
              AND (horizon IS NULL OR d.created_at >= horizon);
            IF found_seq IS NOT NULL THEN
                out_seqs[i] := found_seq;
                out_dups[i] := true;
                CONTINUE;
            END IF;
            FOR j IN 1..i - 1 LOOP
                IF NOT out_dups[j] AND p_keys[j] = p_keys[i] AND p_accounts[j] = p_accounts[i] THEN
                    out_dups[i] := true;
                    out_seqs[i] := -j;  -- resolved to row j's seq below
                    EXIT;
                END IF;
            END LOOP;
            IF out_dups[i] THEN
                CONTINUE;
            END IF;
        END IF;
        fresh := fresh + 1;
        out_seqs[i] := fresh;  -- position among the stored rows, made a seq below
    END LOOP;

    IF fresh > 0 THEN
        first := nextval('message_seq');
        IF fresh > 1 THEN
            PERFORM setval('message_seq', first + fresh - 1);
        END IF;
    END IF;
    FOR i IN 1..n LOOP
        IF NOT out_dups[i] THEN
            out_seqs[i] := first + out_seqs[i] - 1;
        END IF;
    END LOOP;
    FOR i IN 1..n LOOP
        IF out_dups[i] AND out_seqs[i] < 0 THEN
            out_seqs[i] := out_seqs[-out_seqs[i]];
        END IF;
    END LOOP;

    INSERT INTO messages (seq, topic, account, published_at, headers, payload)
    SELECT out_seqs[u.ord], u.t, u.a, stamp, u.h::jsonb, u.p
    FROM unnest(p_topics, p_accounts, p_headers, p_payloads) WITH ORDINALITY AS u (t, a, h, p, ord)
    WHERE NOT out_dups[u.ord];

    INSERT INTO dedupe_keys (account, key, seq)
    SELECT u.a, u.k, out_seqs[u.ord]
    FROM unnest(p_accounts, p_keys) WITH ORDINALITY AS u (a, k, ord)
    WHERE coalesce(u.k, '') <> '' AND NOT out_dups[u.ord]
    ON CONFLICT (account, key) DO UPDATE SET seq = excluded.seq, created_at = stamp;

    IF fresh > 0 THEN
        PERFORM pg_notify('liaison_log', (first + fresh - 1)::text);
    END IF;

    RETURN QUERY SELECT out_seqs, out_dups, stamp;
END
$$;

public import Postgres

/// The delivery state of `ack=explicit` durable consumers: unsettled messages with their
/// delivery counts (table `consumer_pending`, migration 0006), recorded in batches, and moves to
/// the dead letters that settle a message and move the floor in one transaction.
extension Consumers {
    /// The unsettled messages of a consumer: seq → deliveries so far.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func pending(account: String, name: String, on connection: Connection) throws(StoreError) -> [Int64: Int] {
        try storeCall {
            let result = try connection.query(
                "SELECT seq, deliveries FROM consumer_pending WHERE account = $1 AND consumer = $2",
                [account.postgresBind, name.postgresBind]
            )
            var pending: [Int64: Int] = [:]
            for row in 0..<result.rowCount {
                pending[try result.decode(Int64.self, row: row, column: 0)] = try result.decode(
                    Int.self,
                    row: row,
                    column: 1
                )
            }
            return pending
        }
    }

    /// Records the progress of several consumers in one transaction: floors and delivered seqs
    /// (which only move forward), delivery counts of unsettled messages, and settled messages
    /// (whose pending rows go, as do all pending rows at or below the new floor).
    ///
    /// A consumer that no longer exists (deleted by an admin meanwhile) is skipped.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database` (nothing is recorded then).
    public func record(_ progress: [ConsumerProgress], on connection: Connection) throws(StoreError) {
        guard !progress.isEmpty else { return }
        try storeCall {
            try connection.transaction { connection in
                for item in progress {
                    try self.record(item, on: connection)
                }
            }
        }
    }

    private func record(_ item: ConsumerProgress, on connection: Connection) throws {
        let key: [PostgresBind] = [item.account.postgresBind, item.name.postgresBind]
        let updated = try connection.query(
            """
            UPDATE durable_cursors SET
                acked_seq = GREATEST(acked_seq, $3),
                last_ack_at = CASE WHEN $3 > acked_seq THEN now() ELSE last_ack_at END,
                delivered_seq = GREATEST(delivered_seq, $4),
                last_delivery_at = CASE WHEN $4 > delivered_seq THEN now() ELSE last_delivery_at END,
                updated_at = now()
            WHERE account = $1 AND name = $2
            RETURNING acked_seq
            """,
            key + [item.ackFloor.postgresBind, item.deliveredSeq.postgresBind]
        )
        guard updated.rowCount == 1 else { return }
        let floor = try updated.decode(Int64.self, row: 0, column: 0)
        let settled = item.settled
        try connection.query(
            "DELETE FROM consumer_pending WHERE account = $1 AND consumer = $2 AND (seq <= $3 OR seq = ANY($4))",
            key + [floor.postgresBind, settled.postgresBind]
        )
        let counts = item.deliveries.filter { $0.key > floor }.sorted { $0.key < $1.key }
        if !counts.isEmpty {
            try connection.query(
                """
                INSERT INTO consumer_pending (account, consumer, seq, deliveries)
                SELECT $1, $2, u.seq, u.deliveries FROM unnest($3::int8[], $4::int4[]) AS u (seq, deliveries)
                ON CONFLICT (account, consumer, seq) DO UPDATE
                    SET deliveries = GREATEST(consumer_pending.deliveries, excluded.deliveries), delivered_at = now()
                """,
                key + [counts.map(\.key).postgresBind, counts.map { Int32(clamping: $0.value) }.postgresBind]
            )
        }
        // Counts only ever rise above (two bindings may overlap); a returned delivery lowers its
        // own count only, so a row some newer delivery raised meanwhile is left as it is.
        let returned = item.returned.filter { $0.key > floor }.sorted { $0.key < $1.key }
        guard !returned.isEmpty else { return }
        try connection.query(
            """
            UPDATE consumer_pending p SET deliveries = u.deliveries - 1
            FROM unnest($3::int8[], $4::int4[]) AS u (seq, deliveries)
            WHERE p.account = $1 AND p.consumer = $2 AND p.seq = u.seq AND p.deliveries = u.deliveries
            """,
            key + [returned.map(\.key).postgresBind, returned.map { Int32(clamping: $0.value) }.postgresBind]
        )
    }

    /// Moves messages to the dead letters, drops their pending rows and raises the ack floor, in
    /// one transaction: a message is never past the floor without its dead letter, nor the reverse.
    ///
    /// - Throws: ``StoreError`` `.notFound` when the consumer does not exist; `.unavailable` or
    ///   `.database` (nothing changed then: the caller keeps the messages in flight and retries).
    public func move(_ move: DeadLetterMove, on connection: Connection) throws(StoreError) {
        try storeCall {
            try connection.transaction { connection in
                for letter in move.letters {
                    try self.deadLetter(
                        account: move.account,
                        name: move.consumer,
                        seq: letter.seq,
                        topic: letter.topic,
                        deliveries: letter.deliveries,
                        reason: move.reason,
                        on: connection
                    )
                }
                try connection.query(
                    "DELETE FROM consumer_pending WHERE account = $1 AND consumer = $2 AND seq = ANY($3)",
                    [move.account.postgresBind, move.consumer.postgresBind, move.letters.map(\.seq).postgresBind]
                )
                try connection.query(
                    """
                    UPDATE durable_cursors SET acked_seq = GREATEST(acked_seq, $3), updated_at = now()
                    WHERE account = $1 AND name = $2
                    """,
                    [move.account.postgresBind, move.consumer.postgresBind, move.ackFloor.postgresBind]
                )
            }
        }
    }
}

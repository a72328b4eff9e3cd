public import Postgres

/// How far one durable consumer is behind the head of the log.
public struct DurableLag: Sendable, Equatable {
    /// The owning account.
    public var account: String
    /// The durable name.
    public var consumer: String
    /// Seqs between its ack floor and the highest seq in the log (an upper bound of the messages
    /// it has still to acknowledge: other topics' seqs count too, and it is cheap to read).
    public var lagSeqs: Int64
    /// Messages delivered and awaiting an explicit `ACK` (`consumer_pending` rows; 0 for `ack=auto`).
    public var unacknowledged: Int64

    /// Creates a value.
    public init(account: String, consumer: String, lagSeqs: Int64, unacknowledged: Int64) {
        self.account = account
        self.consumer = consumer
        self.lagSeqs = lagSeqs
        self.unacknowledged = unacknowledged
    }
}

extension Consumers {
    /// The `limit` durable consumers furthest behind the head of the log, furthest first (ties by
    /// account and name), so a metrics export has a bounded number of label sets.
    ///
    /// One index-only look at `max(seq)` and one pass over `durable_cursors`: cheap enough to run
    /// every few seconds, unlike ``pendingCount(_:on:)`` which counts matching messages.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func mostLagging(limit: Int, on connection: Connection) throws(StoreError) -> [DurableLag] {
        try storeCall {
            let result = try connection.query(
                """
                SELECT d.account, d.name, greatest(h.head - d.acked_seq, 0),
                       (SELECT count(*) FROM consumer_pending p WHERE p.account = d.account AND p.consumer = d.name)
                FROM durable_cursors d, (SELECT coalesce(max(seq), 0) AS head FROM messages) h
                ORDER BY 3 DESC, d.account, d.name
                LIMIT $1
                """,
                [Int64(max(0, limit)).postgresBind]
            )
            return try (0..<result.rowCount).map { row in
                DurableLag(
                    account: try result.decode(String.self, row: row, column: 0),
                    consumer: try result.decode(String.self, row: row, column: 1),
                    lagSeqs: try result.decode(Int64.self, row: row, column: 2),
                    unacknowledged: try result.decode(Int64.self, row: row, column: 3)
                )
            }
        }
    }
}

import Foundation
public import Postgres

extension Consumers {
    private static let deadLetterColumns = """
        id, account, consumer, seq, topic, deliveries, reason, created_at, replay_requested_at, replayed_at
        """

    /// Records that a consumer gave up on a message, once per (account, consumer, seq).
    ///
    /// Repeating the call for a letter still waiting changes nothing, so the daemon can retry it
    /// freely. A letter that was replayed and fails again is recorded afresh: its deliveries,
    /// reason and time are replaced and its replay stamps cleared, so the admin sees it again.
    ///
    /// - Parameters:
    ///   - account: The owning account.
    ///   - name: The consumer's durable name.
    ///   - seq: The message seq.
    ///   - topic: The message topic.
    ///   - deliveries: How many times it was delivered.
    ///   - reason: Why, for people (e.g. `max_deliver 5 reached`).
    ///   - connection: The connection.
    /// - Throws: ``StoreError`` `.notFound` when the consumer does not exist; `.unavailable` or `.database`.
    public func deadLetter(
        account: String,
        name: String,
        seq: Int64,
        topic: String,
        deliveries: Int,
        reason: String,
        on connection: Connection
    ) throws(StoreError) {
        do {
            try connection.query(
                """
                INSERT INTO dead_letters (account, consumer, seq, topic, deliveries, reason)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (account, consumer, seq) DO UPDATE SET deliveries = excluded.deliveries,
                    reason = excluded.reason, created_at = now(), replay_requested_at = NULL, replayed_at = NULL
                WHERE dead_letters.replayed_at IS NOT NULL
                """,
                [
                    account.postgresBind, name.postgresBind, seq.postgresBind, topic.postgresBind,
                    Int32(clamping: deliveries).postgresBind, reason.postgresBind,
                ]
            )
        } catch {
            let wrapped = StoreError.wrap(error)
            if wrapped.underlying?.sqlState == "23503" { throw Self.notFound(account: account, name: name) }
            throw wrapped
        }
    }

    /// Lists dead letters, oldest first.
    ///
    /// - Parameters:
    ///   - account: Only this account's; `nil` for all.
    ///   - name: Only this consumer's (by durable name); `nil` for all.
    ///   - limit: At most this many.
    ///   - connection: The connection.
    /// - Returns: The dead letters ascending by id.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func deadLetters(
        account: String?,
        name: String?,
        limit: Int,
        on connection: Connection
    ) throws(StoreError) -> [DeadLetter] {
        try storeCall {
            let result = try connection.query(
                """
                SELECT \(Self.deadLetterColumns) FROM dead_letters
                WHERE ($1::text IS NULL OR account = $1) AND ($2::text IS NULL OR consumer = $2)
                ORDER BY id LIMIT $3
                """,
                [account.postgresBind, name.postgresBind, Int64(limit).postgresBind]
            )
            return try (0..<result.rowCount).map { try Self.decodeDeadLetter(result, row: $0) }
        }
    }

    /// Counts a consumer's dead letters, replayed ones included.
    ///
    /// - Parameters:
    ///   - account: The owning account.
    ///   - name: The durable name.
    ///   - connection: The connection.
    /// - Returns: The number of dead-letter records (0 for an unknown consumer).
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func deadLetterCount(account: String, name: String, on connection: Connection) throws(StoreError) -> Int64 {
        try storeCall {
            try connection.query(
                "SELECT count(*) FROM dead_letters WHERE account = $1 AND consumer = $2",
                [account.postgresBind, name.postgresBind]
            ).decode(Int64.self, row: 0, column: 0)
        }
    }

    /// Asks for a dead letter to be delivered again to its consumer, as an admin.
    ///
    /// Sets `replay_requested_at` and clears `replayed_at`; the daemon serving the consumer picks it
    /// up with ``takeReplays(account:name:on:)``. Requesting again after a replay replays it again.
    ///
    /// - Parameter id: The dead letter's id.
    /// - Returns: The dead letter after the change.
    /// - Throws: ``StoreError`` `.notFound` when there is no such id; `.unavailable` or `.database`.
    public func requestReplay(id: Int64, on connection: Connection) throws(StoreError) -> DeadLetter {
        let result = try storeCall {
            try connection.query(
                """
                UPDATE dead_letters SET replay_requested_at = now(), replayed_at = NULL WHERE id = $1
                RETURNING \(Self.deadLetterColumns)
                """,
                [id.postgresBind]
            )
        }
        guard result.rowCount == 1 else { throw StoreError(.notFound, "no dead letter with id \(id)") }
        return try storeCall { try Self.decodeDeadLetter(result, row: 0) }
    }

    /// Takes the replays requested for a consumer and not yet done, marking them done.
    ///
    /// One `UPDATE … RETURNING`: each requested replay is handed out once, even to racing daemons.
    ///
    /// - Parameters:
    ///   - account: The owning account.
    ///   - name: The durable name.
    ///   - connection: The connection.
    /// - Returns: The seqs to redeliver, ascending; empty when there is nothing to do.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func takeReplays(account: String, name: String, on connection: Connection) throws(StoreError) -> [Int64] {
        try storeCall {
            let result = try connection.query(
                """
                UPDATE dead_letters SET replayed_at = now()
                WHERE account = $1 AND consumer = $2 AND replay_requested_at IS NOT NULL AND replayed_at IS NULL
                RETURNING seq
                """,
                [account.postgresBind, name.postgresBind]
            )
            return try (0..<result.rowCount).map { try result.decode(Int64.self, row: $0, column: 0) }.sorted()
        }
    }

    /// Decodes one row selected with ``deadLetterColumns``.
    private static func decodeDeadLetter(_ result: QueryResult, row: Int) throws -> DeadLetter {
        DeadLetter(
            id: try result.decode(Int64.self, row: row, column: 0),
            account: try result.decode(String.self, row: row, column: 1),
            consumer: try result.decode(String.self, row: row, column: 2),
            seq: try result.decode(Int64.self, row: row, column: 3),
            topic: try result.decode(String.self, row: row, column: 4),
            deliveries: try result.decode(Int.self, row: row, column: 5),
            reason: try result.decode(String.self, row: row, column: 6),
            createdAt: try result.decode(Date.self, row: row, column: 7),
            replayRequestedAt: try result.decode(Date?.self, row: row, column: 8),
            replayedAt: try result.decode(Date?.self, row: row, column: 9)
        )
    }
}

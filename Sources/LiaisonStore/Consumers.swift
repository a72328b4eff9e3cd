import Foundation
public import LiaisonCore
public import Postgres

/// Durable consumers (`SUB … durable=<name>`) and their dead letters. Stateless: every call takes
/// the connection it runs on.
///
/// A consumer is one row of `durable_cursors`, keyed by (account, name). Its ack floor only moves
/// forward except when a client (`reset=true`) or an admin (`liaisonctl consumer reset`) resets it.
public struct Consumers: Sendable {
    /// Creates the repository.
    public init() {}

    static let columns = """
        account, name, pattern, ack_mode, ack_wait_ms, max_deliver, max_inflight, acked_seq, delivered_seq,
        last_ack_at, last_delivery_at, created_at
        """

    /// Creates a durable consumer or resumes an existing one: what `SUB … durable=<name>` does.
    ///
    /// A new consumer's ack floor (and delivered seq) comes from `start`: `nil` or `.new` → the
    /// current head seq, `.all` → 0, `.seq(n)` → n − 1, `.time(t)` → the seq before the first message
    /// published at or after `t`. An existing consumer:
    /// - with `reset`: floor and delivered seq set from `start` as for a new one (`nil` → head) and
    ///   settings replaced; its dead letters are kept;
    /// - without `reset`, given a `start` or a different pattern: refused;
    /// - otherwise: its ack mode, ack wait, max deliver and max inflight become the given ones and
    ///   its floor is kept.
    ///
    /// Runs in one transaction that locks the row (`SELECT … FOR UPDATE`), so two sessions opening
    /// one name cannot interleave.
    ///
    /// - Parameters:
    ///   - account: The subscribing account.
    ///   - name: The durable name.
    ///   - settings: The pattern and pacing the client asked for.
    ///   - start: The `from=` option, `nil` when absent.
    ///   - reset: The client's `reset=true`.
    ///   - connection: A connection outside any transaction.
    /// - Returns: The consumer after the change.
    /// - Throws: ``StoreError`` `.conflict` when the consumer exists and `start` is given or the
    ///   pattern differs without `reset`; `.invalid` for a setting that is not positive; `.notFound`
    ///   when the account does not exist; `.unavailable` or `.database`.
    public func open(
        account: String,
        name: String,
        settings: ConsumerSettings,
        start: StartPosition?,
        reset: Bool,
        on connection: Connection
    ) throws(StoreError) -> ConsumerInfo {
        try settings.validate()
        return try storeCall {
            try connection.transaction { connection in
                // Two attempts: a concurrent open may insert the row between our look-up and insert;
                // the second look-up then sees (and locks) it.
                for _ in 0..<2 {
                    if let existing = try self.lockedRow(account: account, name: name, on: connection) {
                        return try self.resume(existing, settings: settings, start: start, reset: reset, on: connection)
                    }
                    let floor = try self.floor(for: start ?? .new, on: connection)
                    if let created = try self.insert(account, name, settings, floor: floor, on: connection) {
                        return created
                    }
                }
                throw StoreError(.conflict, "durable \(name) of \(account) is being created by another session")
            }
        }
    }

    /// Looks a consumer up.
    ///
    /// - Returns: The consumer, or `nil` if there is none.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func find(account: String, name: String, on connection: Connection) throws(StoreError) -> ConsumerInfo? {
        try storeCall {
            let result = try connection.query(
                "SELECT \(Self.columns) FROM durable_cursors WHERE account = $1 AND name = $2",
                [account.postgresBind, name.postgresBind]
            )
            return result.rowCount == 0 ? nil : try Self.decode(result, row: 0)
        }
    }

    /// Lists consumers by account, then name.
    ///
    /// - Parameter account: Only this account's consumers; `nil` for all.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func list(account: String?, on connection: Connection) throws(StoreError) -> [ConsumerInfo] {
        try storeCall {
            let result = try connection.query(
                """
                SELECT \(Self.columns) FROM durable_cursors WHERE ($1::text IS NULL OR account = $1)
                ORDER BY account, name
                """,
                [account.postgresBind]
            )
            return try (0..<result.rowCount).map { try Self.decode(result, row: $0) }
        }
    }

    /// Counts what the consumer has not acknowledged: messages its pattern selects above its ack floor.
    ///
    /// Messages acknowledged out of order (above the floor) still count, as the floor does not record them.
    ///
    /// - Parameter info: The consumer, as from ``find(account:name:on:)``.
    /// - Returns: The number of messages.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func pendingCount(_ info: ConsumerInfo, on connection: Connection) throws(StoreError) -> Int64 {
        let topic = MessageLog.topicCondition(info.settings.pattern, firstParameter: 2)
        return try storeCall {
            try connection.query(
                "SELECT count(*) FROM messages WHERE seq > $1 AND \(topic.sql)",
                [info.ackFloor.postgresBind] + topic.binds
            ).decode(Int64.self, row: 0, column: 0)
        }
    }

    /// Moves a consumer to a position, as an admin: its ack floor and delivered seq both become the
    /// seq before `start` (`.new` → head, `.all` → 0, `.seq(n)` → n − 1, `.time(t)` → before `t`).
    ///
    /// A connected session of the consumer keeps its in-memory position until it resubscribes.
    /// Runs in its own transaction, or in the caller's when one is open (``AdminAudit/perform(on:_:)``).
    ///
    /// - Returns: The consumer after the reset.
    /// - Throws: ``StoreError`` `.notFound` when there is no such consumer; `.unavailable` or `.database`.
    public func reset(
        account: String,
        name: String,
        to start: StartPosition,
        on connection: Connection
    ) throws(StoreError) -> ConsumerInfo {
        let result = try storeCall {
            try connection.joiningTransaction { connection in
                let floor = try self.floor(for: start, on: connection)
                return try connection.query(
                    """
                    UPDATE durable_cursors SET acked_seq = $3, delivered_seq = $3, updated_at = now()
                    WHERE account = $1 AND name = $2
                    RETURNING \(Self.columns)
                    """,
                    [account.postgresBind, name.postgresBind, floor.postgresBind]
                )
            }
        }
        guard result.rowCount == 1 else { throw Self.notFound(account: account, name: name) }
        return try storeCall { try Self.decode(result, row: 0) }
    }

    /// Deletes a consumer and, by cascade, its dead letters.
    ///
    /// - Throws: ``StoreError`` `.notFound` when there is no such consumer; `.unavailable` or `.database`.
    public func delete(account: String, name: String, on connection: Connection) throws(StoreError) {
        let result = try storeCall {
            try connection.query(
                "DELETE FROM durable_cursors WHERE account = $1 AND name = $2",
                [account.postgresBind, name.postgresBind]
            )
        }
        guard result.affectedRows == 1 else { throw Self.notFound(account: account, name: name) }
    }

    // MARK: - Helpers

    /// The `.notFound` error for a missing consumer.
    static func notFound(account: String, name: String) -> StoreError {
        StoreError(.notFound, "no durable consumer \(name) for account \(account)")
    }

    /// The row, locked for the rest of the transaction, or `nil`.
    private func lockedRow(account: String, name: String, on connection: Connection) throws -> ConsumerInfo? {
        let result = try connection.query(
            "SELECT \(Self.columns) FROM durable_cursors WHERE account = $1 AND name = $2 FOR UPDATE",
            [account.postgresBind, name.postgresBind]
        )
        return result.rowCount == 0 ? nil : try Self.decode(result, row: 0)
    }

    /// Inserts a new consumer at `floor`, or returns `nil` when a concurrent session created it first.
    private func insert(
        _ account: String,
        _ name: String,
        _ settings: ConsumerSettings,
        floor: Int64,
        on connection: Connection
    ) throws -> ConsumerInfo? {
        do {
            let inserted = try connection.query(
                """
                INSERT INTO durable_cursors (account, name, pattern, ack_mode, ack_wait_ms, max_deliver,
                    max_inflight, acked_seq, delivered_seq)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                ON CONFLICT (account, name) DO NOTHING
                RETURNING \(Self.columns)
                """,
                [account.postgresBind, name.postgresBind] + Self.settingsBinds(settings) + [floor.postgresBind]
            )
            return inserted.rowCount == 1 ? try Self.decode(inserted, row: 0) : nil
        } catch let error as PostgresError where error.sqlState == "23503" {
            // durable_cursors.account references accounts: the account is unknown.
            throw StoreError(.notFound, "account \(account) does not exist", underlying: error)
        }
    }

    /// The existing-consumer half of ``open(account:name:settings:start:reset:on:)``.
    private func resume(
        _ existing: ConsumerInfo,
        settings: ConsumerSettings,
        start: StartPosition?,
        reset: Bool,
        on connection: Connection
    ) throws -> ConsumerInfo {
        let name = existing.name
        if !reset, start != nil {
            throw StoreError(.conflict, "durable \(name) exists: from= needs reset=true")
        }
        if !reset, settings.pattern != existing.settings.pattern {
            throw StoreError(
                .conflict,
                "durable \(name) follows \(existing.settings.pattern); subscribe with that pattern or add reset=true"
            )
        }
        let floor: Int64? = reset ? try self.floor(for: start ?? .new, on: connection) : nil
        let result = try connection.query(
            """
            UPDATE durable_cursors SET pattern = $3, ack_mode = $4, ack_wait_ms = $5, max_deliver = $6,
                max_inflight = $7, acked_seq = coalesce($8, acked_seq),
                -- Switched from ack=auto to ack=explicit: what auto delivered past the floor was never
                -- confirmed, and explicit would take "delivered and not pending" for acknowledged.
                delivered_seq = CASE
                    WHEN $8::int8 IS NOT NULL THEN $8::int8
                    WHEN ack_mode = 'auto' AND $4 = 'explicit' THEN acked_seq
                    ELSE delivered_seq END,
                updated_at = now()
            WHERE account = $1 AND name = $2
            RETURNING \(Self.columns)
            """,
            [existing.account.postgresBind, name.postgresBind] + Self.settingsBinds(settings) + [floor.postgresBind]
        )
        return try Self.decode(result, row: 0)
    }

    /// The ack floor that makes delivery start at `start`.
    private func floor(for start: StartPosition, on connection: Connection) throws(StoreError) -> Int64 {
        switch start {
        case .new: return try MessageLog().headSeq(on: connection)
        case .all: return 0
        case .seq(let seq): return max(seq - 1, 0)
        case .time(let time): return try MessageLog().seqBefore(time: time, on: connection)
        }
    }

    /// Binds for pattern, ack mode, ack wait, max deliver and max inflight, in that order.
    private static func settingsBinds(_ settings: ConsumerSettings) -> [PostgresBind] {
        [
            settings.pattern.value.postgresBind, settings.ackMode.rawValue.postgresBind,
            settings.ackWaitMilliseconds.postgresBind, Int32(settings.maxDeliver).postgresBind,
            Int32(settings.maxInflight).postgresBind,
        ]
    }

    /// Decodes one row selected with ``columns``.
    static func decode(_ result: QueryResult, row: Int) throws -> ConsumerInfo {
        let modeText = try result.decode(String.self, row: row, column: 3)
        guard let mode = AckMode(rawValue: modeText) else {
            throw StoreError(.database, "durable_cursors.ack_mode holds unknown mode '\(modeText)'")
        }
        let settings = ConsumerSettings(
            pattern: try TopicPattern(try result.decode(String.self, row: row, column: 2)),
            ackMode: mode,
            ackWaitMilliseconds: try result.decode(Int64.self, row: row, column: 4),
            maxDeliver: try result.decode(Int.self, row: row, column: 5),
            maxInflight: try result.decode(Int.self, row: row, column: 6)
        )
        return ConsumerInfo(
            account: try result.decode(String.self, row: row, column: 0),
            name: try result.decode(String.self, row: row, column: 1),
            settings: settings,
            ackFloor: try result.decode(Int64.self, row: row, column: 7),
            deliveredSeq: try result.decode(Int64.self, row: row, column: 8),
            lastAckAt: try result.decode(Date?.self, row: row, column: 9),
            lastDeliveryAt: try result.decode(Date?.self, row: row, column: 10),
            createdAt: try result.decode(Date.self, row: row, column: 11)
        )
    }
}

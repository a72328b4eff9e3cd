public import Foundation
public import Postgres

/// Writes and lists security events: authentications, refusals, and changes to rules and credentials.
///
/// Stateless: every call takes the connection it runs on.
public struct SecurityEvents: Sendable {
    /// Creates the repository.
    public init() {}

    /// Records one event.
    ///
    /// - Parameters:
    ///   - kind: What happened.
    ///   - account: The account concerned, if known.
    ///   - remote: `host:port` of the client, or `liaisonctl`.
    ///   - reason: A sentence for people.
    ///   - connection: The connection to write on.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func record(
        _ kind: SecurityEventKind,
        account: String?,
        remote: String?,
        reason: String,
        on connection: Connection
    ) throws(StoreError) {
        try self.record([(kind: kind, account: account, remote: remote, reason: reason)], on: connection)
    }

    /// Records many events in one statement and one round trip (the daemon batches them).
    ///
    /// - Parameters:
    ///   - events: The events, stored in this order (ids increase along it), without an actor.
    ///   - connection: The connection to write on.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`; nothing is stored then.
    public func record(
        _ events: [(kind: SecurityEventKind, account: String?, remote: String?, reason: String)],
        on connection: Connection
    ) throws(StoreError) {
        try self.record(
            events.map { NewSecurityEvent(kind: $0.kind, account: $0.account, remote: $0.remote, reason: $0.reason) },
            on: connection
        )
    }

    /// Records many events in one statement and one round trip, each with its actor (if any).
    ///
    /// - Parameters:
    ///   - events: The events, stored in this order (ids increase along it).
    ///   - connection: The connection to write on.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`; nothing is stored then.
    public func record(_ events: [NewSecurityEvent], on connection: Connection) throws(StoreError) {
        guard !events.isEmpty else { return }
        // NULL elements of a text[] bind as empty strings here, so absent values travel as ''
        // and become NULL again in SQL; an absent time travels as Int64.min ("when stored").
        _ = try storeCall {
            try connection.query(
                """
                INSERT INTO security_events (kind, account, remote, reason, actor, at)
                SELECT u.kind, nullif(u.account, ''), nullif(u.remote, ''), u.reason, nullif(u.actor, ''),
                    CASE WHEN u.at_us = \(Int64.min) THEN clock_timestamp()
                        ELSE timestamptz 'epoch' + u.at_us * interval '1 microsecond' END
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                    WITH ORDINALITY AS u (kind, account, remote, reason, actor, at_us, ord)
                ORDER BY u.ord
                """,
                [
                    events.map(\.kind.rawValue).postgresBind, events.map { $0.account ?? "" }.postgresBind,
                    events.map { $0.remote ?? "" }.postgresBind, events.map(\.reason).postgresBind,
                    events.map { $0.actor ?? "" }.postgresBind,
                    events.map { $0.at.map { Int64(($0.timeIntervalSince1970 * 1_000_000).rounded()) } ?? Int64.min }
                        .postgresBind,
                ]
            )
        }
    }

    /// Lists events, newest first.
    ///
    /// - Parameters:
    ///   - account: Only events about this account; `nil` for all.
    ///   - kind: Only events of this kind; `nil` for all.
    ///   - actor: Only admin changes made by this actor; `nil` for all.
    ///   - since: Only events recorded at or after this instant; `nil` for all.
    ///   - limit: At most this many rows.
    ///   - connection: The connection to read on.
    /// - Returns: The events, newest first (by time, then id).
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func list(
        account: String?,
        kind: SecurityEventKind?,
        actor: String? = nil,
        since: Date?,
        limit: Int,
        on connection: Connection
    ) throws(StoreError) -> [SecurityEvent] {
        try storeCall {
            let result = try connection.query(
                Self.select + " LIMIT $5",
                Self.filterBinds(account: account, kind: kind, actor: actor, since: since) + [Int64(limit).postgresBind]
            )
            return try Self.decode(result)
        }
    }

    /// The listing's query without its `LIMIT`: `$1` account, `$2` kind, `$3` since, `$4` actor;
    /// newest first. Shared by ``list(account:kind:actor:since:limit:on:)`` and the export cursor.
    static let select = """
        SELECT id, at, kind, account, remote, reason, actor FROM security_events
        WHERE ($1::text IS NULL OR account = $1) AND ($2::text IS NULL OR kind = $2)
          AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::text IS NULL OR actor = $4)
        ORDER BY at DESC, id DESC
        """

    /// The binds `$1`...`$4` of ``select``.
    static func filterBinds(
        account: String?,
        kind: SecurityEventKind?,
        actor: String?,
        since: Date?
    ) -> [PostgresBind] {
        [account.postgresBind, kind?.rawValue.postgresBind ?? .null, since.postgresBind, actor.postgresBind]
    }

    /// The rows of ``select``.
    static func decode(_ result: QueryResult) throws -> [SecurityEvent] {
        try (0..<result.rowCount).map { row in
            let kindText = try result.decode(String.self, row: row, column: 2)
            guard let kind = SecurityEventKind(rawValue: kindText) else {
                throw StoreError(.database, "security_events has an unknown kind '\(kindText)'")
            }
            return SecurityEvent(
                id: try result.decode(Int64.self, row: row, column: 0),
                at: try result.decode(Date.self, row: row, column: 1),
                kind: kind,
                account: try result.decode(String?.self, row: row, column: 3),
                remote: try result.decode(String?.self, row: row, column: 4),
                reason: try result.decode(String.self, row: row, column: 5),
                actor: try result.decode(String?.self, row: row, column: 6)
            )
        }
    }
}

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
    ///   - events: The events, stored in this order (ids increase along it).
    ///   - connection: The connection to write on.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`; nothing is stored then.
    public func record(
        _ events: [(kind: SecurityEventKind, account: String?, remote: String?, reason: String)],
        on connection: Connection
    ) throws(StoreError) {
        guard !events.isEmpty else { return }
        // NULL elements of a text[] bind as empty strings here, so absent values travel as ''
        // and become NULL again in SQL.
        _ = try storeCall {
            try connection.query(
                """
                INSERT INTO security_events (kind, account, remote, reason)
                SELECT u.kind, nullif(u.account, ''), nullif(u.remote, ''), u.reason
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u (kind, account, remote, reason, ord)
                ORDER BY u.ord
                """,
                [
                    events.map(\.kind.rawValue).postgresBind, events.map { $0.account ?? "" }.postgresBind,
                    events.map { $0.remote ?? "" }.postgresBind, events.map(\.reason).postgresBind,
                ]
            )
        }
    }

    /// Lists events, newest first.
    ///
    /// - Parameters:
    ///   - account: Only events about this account; `nil` for all.
    ///   - kind: Only events of this kind; `nil` for all.
    ///   - since: Only events recorded at or after this instant; `nil` for all.
    ///   - limit: At most this many rows.
    ///   - connection: The connection to read on.
    /// - Returns: The events, newest first (by time, then id).
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func list(
        account: String?,
        kind: SecurityEventKind?,
        since: Date?,
        limit: Int,
        on connection: Connection
    ) throws(StoreError) -> [SecurityEvent] {
        try storeCall {
            let result = try connection.query(
                """
                SELECT id, at, kind, account, remote, reason FROM security_events
                WHERE ($1::text IS NULL OR account = $1) AND ($2::text IS NULL OR kind = $2)
                  AND ($3::timestamptz IS NULL OR at >= $3)
                ORDER BY at DESC, id DESC LIMIT $4
                """,
                [
                    account.postgresBind, kind?.rawValue.postgresBind ?? .null, since.postgresBind,
                    Int64(limit).postgresBind,
                ]
            )
            return try (0..<result.rowCount).map { row in
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
                    reason: try result.decode(String.self, row: row, column: 5)
                )
            }
        }
    }
}

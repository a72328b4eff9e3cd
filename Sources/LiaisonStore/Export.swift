public import Foundation
public import LiaisonCore
public import Postgres

/// Exports in constant memory: the listings' own statements without their limit, read through a
/// server-side cursor (``Postgres/Connection/streamRows(_:_:pageSize:page:)``) one page at a time,
/// from one snapshot.
extension MessageLog {
    /// Rows per page of an export: memory is about this many × the largest message.
    public static let exportPageSize = 500

    /// Hands every message the query selects to `page`, in pages, in the listing's order
    /// (``list(_:on:)``); `query.limit` is ignored.
    ///
    /// - Parameters:
    ///   - query: The filters, as for ``list(_:on:)``.
    ///   - pageSize: Messages per page (≥ 1).
    ///   - connection: A connection outside any transaction.
    ///   - page: Called with each page; returns whether to go on.
    /// - Throws: ``StoreError`` `.unavailable` or `.database` for the database; what `page` throws,
    ///   unchanged.
    public func export(
        _ query: MessageQuery,
        pageSize: Int = MessageLog.exportPageSize,
        on connection: Connection,
        page: ([Message]) throws -> Bool
    ) throws {
        let (sql, binds) = Self.listStatement(query, limit: nil)
        try exportCall {
            try connection.streamRows(sql, binds, pageSize: pageSize) { result in
                try page(try storeCall { try Self.decodeMessages(result) })
            }
        }
    }
}

extension SecurityEvents {
    /// Hands every event the filters select to `page`, in pages, newest first (the order of
    /// ``list(account:kind:actor:since:limit:on:)``), with no limit.
    ///
    /// - Parameters:
    ///   - account: Only events about this account; `nil` for all.
    ///   - kind: Only events of this kind; `nil` for all.
    ///   - actor: Only admin changes by this actor; `nil` for all.
    ///   - since: Only events at or after this instant; `nil` for all.
    ///   - pageSize: Events per page (≥ 1).
    ///   - connection: A connection outside any transaction.
    ///   - page: Called with each page; returns whether to go on.
    /// - Throws: ``StoreError`` `.unavailable` or `.database` for the database; what `page` throws,
    ///   unchanged.
    public func export(
        account: String?,
        kind: SecurityEventKind?,
        actor: String?,
        since: Date?,
        pageSize: Int = 1_000,
        on connection: Connection,
        page: ([SecurityEvent]) throws -> Bool
    ) throws {
        let binds = Self.filterBinds(account: account, kind: kind, actor: actor, since: since)
        try exportCall {
            try connection.streamRows(Self.select, binds, pageSize: pageSize) { result in
                try page(try storeCall { try Self.decode(result) })
            }
        }
    }
}

/// Runs an export: errors of the `Postgres` module become ``StoreError``s, the caller's own
/// errors (a full disk, say) pass through unchanged.
private func exportCall(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as PostgresError {
        throw StoreError.wrap(error)
    }
}

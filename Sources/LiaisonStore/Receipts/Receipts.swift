public import Foundation
public import LiaisonCore
public import Postgres

/// Writes receipt ranges and reads receipts back through the audit views (migration 0008).
///
/// Stateless: every call takes the connection it runs on. The derivation of per-message
/// receipts from ranges lives in SQL only (the views `audit_deliveries`, `audit_acknowledgements`,
/// `audit_receipts`, `audit_pending`), so `RECEIPTS`, `liaisonctl receipts` and an auditor's own
/// queries give the same answer by construction.
public struct Receipts: Sendable {
    /// Creates the repository.
    public init() {}

    /// Stores ranges in one statement and one round trip.
    ///
    /// - Parameters:
    ///   - ranges: The ranges, any order.
    ///   - connection: The connection to write on.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`; nothing is stored then.
    public func record(_ ranges: [ReceiptRange], on connection: Connection) throws(StoreError) {
        guard !ranges.isEmpty else { return }
        // NULL elements of a text[] bind as empty strings, so a missing consumer travels as ''.
        _ = try storeCall {
            try connection.query(
                """
                INSERT INTO receipt_ranges (account, consumer, connection, subscription, pattern, clearance, event,
                                            first_seq, last_seq, first_at, last_at)
                SELECT u.account, nullif(u.consumer, ''), u.conn, u.sid, u.pattern, u.clearance, u.event,
                       u.first_seq, u.last_seq, u.first_at, u.last_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::bigint[], $9::bigint[], $10::timestamptz[], $11::timestamptz[])
                    AS u (account, consumer, conn, sid, pattern, clearance, event, first_seq, last_seq, first_at, last_at)
                """,
                [
                    ranges.map(\.account).postgresBind, ranges.map { $0.consumer ?? "" }.postgresBind,
                    ranges.map(\.connection).postgresBind, ranges.map(\.subscription).postgresBind,
                    ranges.map(\.pattern).postgresBind, ranges.map(\.clearance.rawValue).postgresBind,
                    ranges.map(\.event.rawValue).postgresBind, ranges.map(\.firstSeq).postgresBind,
                    ranges.map(\.lastSeq).postgresBind, ranges.map(\.firstAt).postgresBind,
                    ranges.map(\.lastAt).postgresBind,
                ]
            )
        }
    }

    /// Who received and acknowledged one message, and which entitled accounts did not.
    ///
    /// - Parameters:
    ///   - seq: The message.
    ///   - connection: The connection to read on.
    /// - Returns: The report, recipients sorted by account; `nil` when no message has that seq.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func report(seq: Int64, on connection: Connection) throws(StoreError) -> ReceiptReport? {
        try storeCall { () throws -> ReceiptReport? in
            let message = try connection.query(
                "SELECT topic, publisher, published_at, class, prio FROM audit_messages WHERE seq = $1",
                [seq.postgresBind]
            )
            guard message.rowCount == 1 else { return nil }
            let rows = try connection.query(
                """
                SELECT account, entitled, delivered_at, acked_at, status, via
                FROM audit_receipts WHERE seq = $1 ORDER BY account
                """,
                [seq.postgresBind]
            )
            var recipients: [AccountReceipt] = []
            for row in 0..<rows.rowCount {
                recipients.append(
                    AccountReceipt(
                        account: try rows.decode(String.self, row: row, column: 0),
                        entitled: try rows.decode(Bool.self, row: row, column: 1),
                        deliveredAt: try rows.decode(Date?.self, row: row, column: 2),
                        ackedAt: try rows.decode(Date?.self, row: row, column: 3),
                        status: try rows.decode(String.self, row: row, column: 4),
                        via: try rows.decode([String].self, row: row, column: 5).sorted()
                    )
                )
            }
            return ReceiptReport(
                seq: seq,
                topic: try message.decode(String.self, row: 0, column: 0),
                publisher: try message.decode(String.self, row: 0, column: 1),
                publishedAt: try message.decode(Date.self, row: 0, column: 2),
                classification: try message.decode(String.self, row: 0, column: 3),
                priority: try message.decode(String.self, row: 0, column: 4),
                recipients: recipients
            )
        }
    }

    /// Entitled accounts that have not acknowledged messages, per message (`receipts --pending`).
    ///
    /// - Parameters:
    ///   - pattern: Messages whose topic it matches.
    ///   - since: Published at or after this instant.
    ///   - until: Published before this instant; `nil` for no bound.
    ///   - priority: Only messages of this `prio` (`flash`); `nil` for all.
    ///   - limit: At most this many rows.
    ///   - connection: The connection to read on.
    /// - Returns: Rows by seq, then account.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func pending(
        matching pattern: TopicPattern,
        since: Date,
        until: Date?,
        priority: Priority?,
        limit: Int,
        on connection: Connection
    ) throws(StoreError) -> [PendingReceipt] {
        try storeCall { () throws -> [PendingReceipt] in
            let rows = try connection.query(
                """
                SELECT seq, topic, publisher, published_at, prio, account, delivered_at
                FROM audit_pending
                WHERE published_at >= $1 AND ($2::timestamptz IS NULL OR published_at < $2)
                  AND topic ~ $3 AND ($4::text IS NULL OR prio = $4)
                ORDER BY seq, account
                LIMIT $5
                """,
                [
                    since.postgresBind, until?.postgresBind ?? .null, pattern.sqlRegex.postgresBind,
                    priority?.rawValue.postgresBind ?? .null, Int64(limit).postgresBind,
                ]
            )
            var out: [PendingReceipt] = []
            for row in 0..<rows.rowCount {
                out.append(
                    PendingReceipt(
                        seq: try rows.decode(Int64.self, row: row, column: 0),
                        topic: try rows.decode(String.self, row: row, column: 1),
                        publisher: try rows.decode(String.self, row: row, column: 2),
                        publishedAt: try rows.decode(Date.self, row: row, column: 3),
                        priority: try rows.decode(String.self, row: row, column: 4),
                        account: try rows.decode(String.self, row: row, column: 5),
                        deliveredAt: try rows.decode(Date?.self, row: row, column: 6)
                    )
                )
            }
            return out
        }
    }
}

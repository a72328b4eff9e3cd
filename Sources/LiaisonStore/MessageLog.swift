public import Foundation
public import LiaisonCore
public import Postgres

/// The message log: appends batches in seq order and reads them back for replay and audit.
public struct MessageLog: Sendable {
    /// What the database assigned to an appended batch, row by row.
    public struct Appended: Sendable, Equatable {
        /// Per input row: its seq, or for a duplicate the seq its key first got.
        public var seqs: [Int64]
        /// Per input row: whether it repeated an `id` seen within the dedupe window (nothing stored).
        public var duplicates: [Bool]
        /// The publication time of every stored message of the batch (the transaction's time, UTC, µs).
        public var publishedAt: Date

        /// - Parameters:
        ///   - seqs: Per input row, its seq (a duplicate's: the seq its key first got).
        ///   - duplicates: Per input row, whether it repeated an `id` (nothing stored).
        ///   - publishedAt: The batch's publication time.
        public init(seqs: [Int64], duplicates: [Bool], publishedAt: Date) {
            self.seqs = seqs
            self.duplicates = duplicates
            self.publishedAt = publishedAt
        }
    }

    /// Creates the repository.
    public init() {}

    static let selectColumns = """
        SELECT seq, topic, account, published_at,
            (SELECT string_agg(key || '=' || value, ' ' ORDER BY key COLLATE "C") FROM jsonb_each_text(headers)),
            payload
        FROM messages
        """

    /// Appends a batch in one statement and one round trip; committed when this returns.
    ///
    /// Outside an explicit transaction the statement is its own transaction, committed when this
    /// returns; inside one (the pipelined writer's), it is committed by the caller's `COMMIT`.
    /// Either way `liaison_append` holds the seq advisory lock until that commit (invariant 2,
    /// docs/ARCHITECTURE.md).
    /// Messages with an `id` header are checked against the keys their account used within the
    /// dedupe window (and against earlier rows of the same batch): a repeat stores nothing and
    /// reports the first seq.
    ///
    /// - Parameters:
    ///   - batch: One or more messages, in the order they should get seqs.
    ///   - dedupeWindowSeconds: How long an `id` counts, in seconds; 0 keeps keys as long as they
    ///     are stored.
    /// - Returns: Per-row seqs and duplicate flags; `nil` for an empty batch.
    /// - Throws: ``StoreError`` `.unavailable` when the connection broke (nothing is known to be
    ///   committed: the caller answers `ERR 503`), `.database` for any other failure (rolled back).
    ///   - token: When given, the batch is recorded under it in `writer_batches` in the same
    ///     transaction, so ``resolveBatch(token:on:)`` can tell later whether it committed.
    public func append(
        _ batch: [NewMessage],
        dedupeWindowSeconds: Int64 = 0,
        token: Int64? = nil,
        on connection: Connection
    )
        throws(StoreError) -> Appended?
    {
        guard !batch.isEmpty else { return nil }
        var topics: [String] = []
        var accounts: [String] = []
        var headers: [String] = []
        var payloads: [[UInt8]] = []
        var keys: [String] = []
        var anyKey = false
        topics.reserveCapacity(batch.count)
        accounts.reserveCapacity(batch.count)
        headers.reserveCapacity(batch.count)
        payloads.reserveCapacity(batch.count)
        keys.reserveCapacity(batch.count)
        for message in batch {
            topics.append(message.topic.value)
            accounts.append(message.account)
            headers.append(message.headers.jsonText)
            payloads.append(message.payload)
            let key = message.headers.id ?? ""
            anyKey = anyKey || !key.isEmpty
            keys.append(key)
        }
        return try storeCall {
            let binds: [PostgresBind] = [
                topics.postgresBind, accounts.postgresBind, headers.postgresBind, payloads.postgresBind,
                anyKey ? keys.postgresBind : .null, dedupeWindowSeconds.postgresBind,
            ]
            // One statement, so one transaction: the token row commits exactly when the messages do.
            let result =
                try token.map { token in
                    try connection.query(
                        """
                        WITH a AS (SELECT seqs, duplicates, published_at FROM liaison_append($1, $2, $3, $4, $5, $6))
                        INSERT INTO writer_batches (token, seqs, duplicates, published_at)
                        SELECT $7, seqs, duplicates, published_at FROM a
                        RETURNING seqs, duplicates, published_at
                        """,
                        binds + [token.postgresBind]
                    )
                }
                ?? connection.query(
                    "SELECT seqs, duplicates, published_at FROM liaison_append($1, $2, $3, $4, $5, $6)",
                    binds
                )
            return Appended(
                seqs: try result.decode([Int64].self, row: 0, column: 0),
                duplicates: try result.decode([Bool].self, row: 0, column: 1),
                publishedAt: try result.decode(Date.self, row: 0, column: 2)
            )
        }
    }

    /// Tells whether the batch appended under `token` committed.
    ///
    /// - Returns: What the batch was assigned, or `nil` when no batch with that token committed.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func resolveBatch(token: Int64, on connection: Connection) throws(StoreError) -> Appended? {
        try storeCall {
            let result = try connection.query(
                "SELECT seqs, duplicates, published_at FROM writer_batches WHERE token = $1",
                [token.postgresBind]
            )
            guard result.rowCount == 1 else { return nil }
            return Appended(
                seqs: try result.decode([Int64].self, row: 0, column: 0),
                duplicates: try result.decode([Bool].self, row: 0, column: 1),
                publishedAt: try result.decode(Date.self, row: 0, column: 2)
            )
        }
    }

    /// Deletes batch tokens older than `seconds` (they only matter until the writer resolved them).
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func pruneBatchTokens(olderThanSeconds seconds: Int64, on connection: Connection) throws(StoreError) {
        _ = try storeCall {
            try connection.query(
                "DELETE FROM writer_batches WHERE committed_at < now() - make_interval(secs => $1)",
                [Double(seconds).postgresBind]
            )
        }
    }

    /// The channel `liaison_append` notifies once per stored batch, with the batch's last seq as
    /// payload (migration 0011).
    public static let commitChannel = "liaison_log"

    /// Reads committed messages in a seq range, for every topic and class (the log follower's read:
    /// the router applies patterns and the sessions clearance).
    ///
    /// - Parameters:
    ///   - afterSeq: Exclusive lower bound.
    ///   - beforeSeq: Exclusive upper bound; `nil` for none.
    ///   - limit: At most this many rows.
    /// - Returns: Messages in ascending seq order.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func read(
        after afterSeq: Int64,
        before beforeSeq: Int64?,
        limit: Int,
        on connection: Connection
    ) throws(StoreError) -> [Message] {
        try storeCall {
            try Self.decodeMessages(
                try connection.query(
                    Self.selectColumns + " WHERE seq > $1 AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq LIMIT $3",
                    [afterSeq.postgresBind, beforeSeq.postgresBind, Int64(limit).postgresBind]
                )
            )
        }
    }

    /// The highest committed seq, or 0 for an empty log.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func headSeq(on connection: Connection) throws(StoreError) -> Int64 {
        try storeCall {
            try connection.query("SELECT coalesce(max(seq), 0) FROM messages").decode(Int64.self, row: 0, column: 0)
        }
    }

    /// The seq to replay after so that delivery starts at the first message published at or after `time`.
    ///
    /// - Returns: An exclusive lower bound for ``read(after:matching:limit:on:)``.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func seqBefore(time: Date, on connection: Connection) throws(StoreError) -> Int64 {
        try storeCall {
            try connection.query(
                """
                SELECT coalesce((SELECT min(seq) FROM messages WHERE published_at >= $1) - 1,
                                (SELECT coalesce(max(seq), 0) FROM messages))
                """,
                [time.postgresBind]
            ).decode(Int64.self, row: 0, column: 0)
        }
    }

    /// Lists messages for audit.
    ///
    /// - Parameter query: Filters; every value is bound as a parameter (invariant 6).
    /// - Returns: Messages ascending by seq (descending when `query.newestFirst`).
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func list(_ query: MessageQuery, on connection: Connection) throws(StoreError) -> [Message] {
        let (sql, binds) = Self.listStatement(query, limit: Int64(query.limit))
        return try storeCall {
            try Self.decodeMessages(try connection.query(sql, binds))
        }
    }

    /// The listing's statement: ``list(_:on:)`` with `limit`, the export cursor with `nil` (no limit).
    static func listStatement(_ query: MessageQuery, limit: Int64?) -> (sql: String, binds: [PostgresBind]) {
        let pattern = query.pattern
        let like: String? = pattern.flatMap { $0.literalPrefix.isEmpty ? nil : $0.sqlLikePrefix }
        let regex: String? = pattern.map { $0.sqlRegex }
        let order = query.newestFirst ? "DESC" : "ASC"
        // LIMIT NULL is LIMIT ALL.
        let sql =
            Self.selectColumns + """
                 WHERE ($1::text IS NULL OR account = $1)
                  AND ($2::text IS NULL OR topic LIKE $2) AND ($3::text IS NULL OR topic ~ $3)
                  AND ($4::timestamptz IS NULL OR published_at >= $4)
                  AND ($5::timestamptz IS NULL OR published_at < $5)
                  AND ($6::bigint IS NULL OR seq >= $6) AND ($7::bigint IS NULL OR seq <= $7)
                  AND \(Self.classCondition(parameter: 9))
                  AND ($10::text IS NULL OR coalesce(headers->>'class', 'internal') = $10)
                ORDER BY seq \(order) LIMIT $8::bigint
                """
        let binds: [PostgresBind] = [
            query.account.postgresBind, like.postgresBind, regex.postgresBind, query.since.postgresBind,
            query.until.postgresBind, query.fromSeq.postgresBind, query.toSeq.postgresBind,
            limit.postgresBind, Self.classesBind(upTo: query.maxClassification),
            query.classification?.rawValue.postgresBind ?? .null,
        ]
        return (sql, binds)
    }

    /// A SQL condition keeping messages whose class is in the text array `$parameter` (NULL keeps all).
    ///
    /// A message without `class` is `internal`; a class outside the four known names is never
    /// in the array, so it is only shown to readers cleared for everything.
    static func classCondition(parameter n: Int) -> String {
        "($\(n)::text[] IS NULL OR coalesce(headers->>'class', 'internal') = ANY($\(n)::text[]))"
    }

    /// The bind for ``classCondition(parameter:)``: the class names at or below `maximum`, or NULL
    /// when `maximum` is the top level (no filter, so the common admin path pays nothing).
    static func classesBind(upTo maximum: Classification?) -> PostgresBind {
        guard let maximum, maximum < .strictlyConfidential else { return .null }
        return Classification.allCases.filter { $0 <= maximum }.map(\.rawValue).postgresBind
    }

    static func decodeMessages(_ result: QueryResult) throws -> [Message] {
        var messages: [Message] = []
        messages.reserveCapacity(result.rowCount)
        for row in 0..<result.rowCount {
            let headerText = try result.decode(String?.self, row: row, column: 4) ?? ""
            let headers = try Headers(parsing: headerText.split(separator: " "))
            messages.append(
                Message(
                    seq: try result.decode(Int64.self, row: row, column: 0),
                    topic: try Topic(try result.decode(String.self, row: row, column: 1)),
                    account: try result.decode(String.self, row: row, column: 2),
                    publishedAt: try result.decode(Date.self, row: row, column: 3),
                    headers: headers,
                    payload: try result.decode([UInt8].self, row: row, column: 5)
                )
            )
        }
        return messages
    }
}

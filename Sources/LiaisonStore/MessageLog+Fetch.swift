public import LiaisonCore
public import Postgres

extension MessageLog {
    /// Reads the messages with exactly these seqs, for redelivery of unacknowledged or replayed ones.
    ///
    /// - Parameters:
    ///   - seqs: The seqs wanted, in any order; repeats are harmless.
    ///   - maxClassification: Leave out messages whose `class` is above this (the reader's clearance).
    ///   - connection: The connection to read on.
    /// - Returns: The stored messages among them, ascending by seq; seqs that are not in the log
    ///   (never assigned, or removed by retention) or above `maxClassification` are simply absent.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func fetch(
        seqs: [Int64],
        maxClassification: Classification = .strictlyConfidential,
        on connection: Connection
    ) throws(StoreError) -> [Message] {
        guard !seqs.isEmpty else { return [] }
        return try storeCall {
            let result = try connection.query(
                Self.selectColumns + " WHERE seq = ANY($1) AND \(Self.classCondition(parameter: 2)) ORDER BY seq",
                [seqs.postgresBind, Self.classesBind(upTo: maxClassification)]
            )
            return try Self.decodeMessages(result)
        }
    }

    /// Looks ahead for priority delivery: the next `prio=flash` messages a pattern selects.
    ///
    /// Runs on the partial index `messages_flash_seq` (migration 0003), so it touches only flash
    /// messages however far the consumer is behind.
    ///
    /// - Parameters:
    ///   - afterSeq: Exclusive lower bound, usually the consumer's delivered seq.
    ///   - pattern: Only topics this pattern matches.
    ///   - limit: At most this many messages.
    ///   - maxClassification: Skip messages whose `class` is above this (the reader's clearance).
    ///   - connection: The connection to read on.
    /// - Returns: Flash messages with seq > `afterSeq`, ascending by seq.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func flash(
        after afterSeq: Int64,
        matching pattern: TopicPattern,
        limit: Int,
        maxClassification: Classification = .strictlyConfidential,
        on connection: Connection
    ) throws(StoreError) -> [Message] {
        let topic = Self.topicCondition(pattern, firstParameter: 4)
        return try storeCall {
            // The prio predicate is spelled as in the index definition, or the planner cannot use it.
            let result = try connection.query(
                Self.selectColumns
                    + " WHERE headers->>'prio' = 'flash' AND seq > $1 AND \(Self.classCondition(parameter: 3))"
                    + " AND \(topic.sql) ORDER BY seq LIMIT $2",
                [afterSeq.postgresBind, Int64(limit).postgresBind, Self.classesBind(upTo: maxClassification)]
                    + topic.binds
            )
            return try Self.decodeMessages(result)
        }
    }

    /// A SQL condition on `topic` selecting exactly the topics of a pattern, with its parameters.
    ///
    /// Only placeholders go into the text (invariant 6). A literal pattern compares for equality;
    /// a wildcard pattern adds an indexable `LIKE` prefix (when it has one) before the exact regex.
    ///
    /// - Parameters:
    ///   - pattern: The pattern.
    ///   - firstParameter: The number of the first placeholder to use (`$n`).
    /// - Returns: The condition and the binds for `$firstParameter…`, in order.
    static func topicCondition(
        _ pattern: TopicPattern,
        firstParameter n: Int
    ) -> (sql: String, binds: [PostgresBind]) {
        if pattern.isLiteral {
            return ("topic = $\(n)", [pattern.value.postgresBind])
        }
        if pattern.literalPrefix.isEmpty {
            return ("topic ~ $\(n)", [pattern.sqlRegex.postgresBind])
        }
        return (
            "topic LIKE $\(n) AND topic ~ $\(n + 1)",
            [pattern.sqlLikePrefix.postgresBind, pattern.sqlRegex.postgresBind]
        )
    }
}

public import LiaisonCore
public import Postgres

extension MessageLog {
    /// Seqs one replay statement scans at most for a pattern that is not one literal topic.
    ///
    /// Such a page walks the seq primary key in windows of at most this many seqs (the first a
    /// few pages wide, each next one twice the last), the topic condition a
    /// filter, so a page costs at most about one window of rows whatever the planner's statistics
    /// say. (With statistics older than a burst the planner took the topic index for a prefix it
    /// had not seen, and re-sorted every later matching row for each page: 387 ms a page instead
    /// of 1.2 ms, docs/BENCHMARKS.md.)
    static let replayWindow: Int64 = 65_536

    /// Reads the next page of messages after a seq, optionally only those a pattern selects.
    ///
    /// This is the replay path (`SUB … from=`) and the catch-up path of slow subscribers. A literal
    /// topic is read through the `(topic, seq)` index, in seq order; any other pattern walks the
    /// seq primary key in windows of ``replayWindow`` seqs up to the head read at the start, so
    /// no plan depends on when the table was last analyzed (docs/ARCHITECTURE.md, "Replay").
    ///
    /// - Parameters:
    ///   - afterSeq: Exclusive lower bound (0 reads from the start).
    ///   - pattern: Only topics this pattern matches; `nil` for all.
    ///   - limit: At most this many rows.
    ///   - maxClassification: Skip messages whose `class` (``Classification/internal`` when absent)
    ///     is above this, i.e. the reader's clearance. Skipped rows count against nothing.
    /// - Returns: Messages in ascending seq order; fewer than `limit` means the log's end was reached.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func read(
        after afterSeq: Int64,
        matching pattern: TopicPattern?,
        limit: Int,
        maxClassification: Classification = .strictlyConfidential,
        on connection: Connection
    )
        throws(StoreError) -> [Message]
    {
        try self.read(
            after: afterSeq,
            matching: pattern,
            limit: limit,
            maxClassification: maxClassification,
            window: Self.replayWindow,
            on: connection
        )
    }

    /// ``read(after:matching:limit:maxClassification:on:)`` with windows of `window` seqs (tests
    /// use small ones).
    func read(
        after afterSeq: Int64,
        matching pattern: TopicPattern?,
        limit: Int,
        maxClassification: Classification,
        window: Int64,
        on connection: Connection
    )
        throws(StoreError) -> [Message]
    {
        let classes = Self.classesBind(upTo: maxClassification)
        if let pattern, pattern.isLiteral {
            return try storeCall {
                try Self.decodeMessages(
                    try connection.query(
                        Self.selectColumns + """
                             WHERE topic = $1 AND seq > $2 AND \(Self.classCondition(parameter: 4))
                            ORDER BY seq LIMIT $3
                            """,
                        [pattern.value.postgresBind, afterSeq.postgresBind, Int64(limit).postgresBind, classes]
                    )
                )
            }
        }
        let like: String? = pattern.flatMap { $0.literalPrefix.isEmpty ? nil : $0.sqlLikePrefix }
        let regex: String? = pattern?.sqlRegex
        let head = try self.headSeq(on: connection)
        var page: [Message] = []
        var after = afterSeq
        // The first window is a few pages wide and doubles while windows come back short: a dense
        // pattern fills its page from one small window (the planner may sort a window's matches
        // rather than walk it in order, testing the pattern on every row of it: with 65 536-seq
        // windows from the start a dense replay spent half its time in the regex), a sparse one
        // reaches the full width in a few statements.
        let widest = max(1, window)
        var width = min(widest, max(1_024, Int64(limit) * 4))
        while page.count < limit && after < head {
            let upTo = min(head, after + width)
            // `topic || ''` keeps the topic index out of the plan: see ``replayWindow``.
            let rows = try storeCall {
                try Self.decodeMessages(
                    try connection.query(
                        Self.selectColumns + """
                             WHERE seq > $1 AND seq <= $2 AND ($3::text IS NULL OR (topic || '') LIKE $3)
                             AND ($4::text IS NULL OR (topic || '') ~ $4) AND \(Self.classCondition(parameter: 6))
                            ORDER BY seq LIMIT $5
                            """,
                        [
                            after.postgresBind, upTo.postgresBind, like.postgresBind, regex.postgresBind,
                            Int64(limit - page.count).postgresBind, classes,
                        ]
                    )
                )
            }
            page += rows
            after = upTo
            width = min(widest, width * 2)
        }
        return page
    }
}

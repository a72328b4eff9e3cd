import Foundation
import Postgres
import Testing

/// A durable consumer of ``CrashSafetyTests``: how it subscribes, which topics it gets, how it
/// confirms, and what it confirmed over all its sessions.
///
/// Everything it ever sent as `ACK` is kept (recorded just before the line goes out, so the
/// daemon may have read it even if the kill came mid-write): the daemon's stored position may
/// never be past what is in ``acksSent``/``highestAckSent``, whatever the moment of the kill.
struct CrashConsumer: Sendable {
    /// The subscription id on the connection.
    let sid: String
    /// The durable's name.
    let name: String
    /// The subscription pattern.
    let pattern: String
    /// `ack=explicit` (every message acknowledged on its own) or `ack=auto` (cumulative `ACK`).
    let explicit: Bool

    /// Every seq the client sent `ACK` for, in all sessions (explicit: one message each; auto:
    /// everything up to it).
    var acksSent: Set<Int64> = []
    /// The highest seq in ``acksSent`` (0 before the first).
    var highestAckSent: Int64 = 0
    /// Every seq delivered in any session.
    var delivered: Set<Int64> = []
    /// The stored ack floor checked after the last kill.
    var checkedFloor: Int64 = 0

    /// The `SUB` line; the same every time, so that it rebinds the durable.
    var subscribeLine: String {
        let options = self.explicit ? "ack=explicit max_deliver=50" : "ack=auto"
        return "SUB \(self.sid) \(self.pattern) durable=\(self.name) \(options)"
    }

    /// Whether the pattern matches `topic` (`*` one token, `>` one or more at the end).
    func matches(_ topic: String) -> Bool {
        let want = self.pattern.split(separator: ".")
        let have = topic.split(separator: ".")
        for (index, token) in want.enumerated() {
            if token == ">" { return have.count > index }
            guard index < have.count, token == "*" || token == have[index] else { return false }
        }
        return want.count == have.count
    }

    /// Whether an explicit consumer leaves this first delivery unacknowledged for the rest of the
    /// session (it acknowledges the redelivery), so that its floor has something to stay behind.
    func withholds(_ delivery: ProcessClient.Delivery, draining: Bool) -> Bool {
        self.explicit && !draining && delivery.headers["liaison.delivery"] == nil && delivery.seq % 13 == 0
    }

    /// Adds a finished session's deliveries and acks.
    mutating func absorb(_ session: CrashConsumerSession) {
        self.delivered.formUnion(session.deliveries.map(\.seq))
        self.acksSent.formUnion(session.acksSent)
        self.highestAckSent = max(self.highestAckSent, session.acksSent.max() ?? 0)
    }
}

/// What one connection of a ``CrashConsumer`` got and sent.
struct CrashConsumerSession: Sendable {
    /// The `MSG` frames, in arrival order.
    var deliveries: [ProcessClient.Delivery] = []
    /// The seqs of every `ACK` sent (for auto: the cumulative positions).
    var acksSent: [Int64] = []
    /// Lines that are neither `OK ACK`, `PING` nor a `MSG`.
    var unexpected: [String] = []
}

extension CrashConsumer {
    /// Connects, authenticates and subscribes.
    ///
    /// - Throws: ``ProcessClient/Failure`` unless the reply is `OK SUB <sid>`.
    func connect(port: Int, account: String, token: String) throws -> ProcessClient {
        let client = try ProcessClient(port: port)
        try client.authenticate(account: account, token: token)
        let reply = try client.command(self.subscribeLine)
        guard reply == "OK SUB \(self.sid)" else {
            throw ProcessClient.Failure(description: "\(self.subscribeLine) got \(reply)")
        }
        return client
    }

    /// Reads `MSG`s until the connection closes (the daemon was killed) or, with `until`, until all
    /// of those seqs arrived or `within` passed. An explicit consumer acknowledges each message at
    /// once (but ``withholds(_:draining:)``); an auto one confirms its position every `every`
    /// messages and whenever the stream pauses for 50 ms.
    func consume(
        _ client: ProcessClient,
        every: Int,
        until expected: Set<Int64>? = nil,
        within limit: Duration = .seconds(60)
    ) -> CrashConsumerSession {
        var session = CrashConsumerSession()
        var outstanding = expected ?? []
        var position: Int64 = 0
        var unconfirmed = 0
        let deadline = ContinuousClock.now + limit
        func confirm() {
            guard !self.explicit, unconfirmed > 0 else { return }
            session.acksSent.append(position)
            unconfirmed = 0
            try? client.send(line: "ACK \(self.sid) \(position)")
        }
        while ContinuousClock.now < deadline && (expected == nil || !outstanding.isEmpty) {
            let frame: ProcessClient.Frame?
            do {
                frame = try client.nextFrame(timeout: .milliseconds(50))
            } catch {
                confirm()
                continue
            }
            guard let frame else { break }
            switch frame {
            case .message(let delivery):
                session.deliveries.append(delivery)
                outstanding.remove(delivery.seq)
                if self.explicit {
                    guard !self.withholds(delivery, draining: expected != nil) else { continue }
                    session.acksSent.append(delivery.seq)
                    try? client.send(line: "ACK \(self.sid) \(delivery.seq)")
                } else if delivery.headers["liaison.ahead"] == nil {
                    position = max(position, delivery.seq)
                    unconfirmed += 1
                    if unconfirmed >= every { confirm() }
                }
            case .line(let line):
                if line == "PING" {
                    try? client.send(line: "PONG")
                } else if !line.hasPrefix("OK ACK ") {
                    session.unexpected.append(line)
                }
            }
        }
        confirm()
        return session
    }
}

/// A durable consumer's row as the database holds it.
struct StoredCursor: Sendable {
    /// `durable_cursors.acked_seq`: the ack floor.
    var floor: Int64
    /// `durable_cursors.delivered_seq`.
    var delivered: Int64
    /// The seqs of its `consumer_pending` rows (unsettled `ack=explicit` messages).
    var pending: Set<Int64>

    /// Reads the row of (`account`, `name`), or nil when there is none.
    static func read(account: String, name: String, url: String) throws -> StoredCursor? {
        let connection = try Connection(url)
        defer { connection.close() }
        let key = [account.postgresBind, name.postgresBind]
        let row = try connection.query(
            "SELECT acked_seq, delivered_seq FROM durable_cursors WHERE account = $1 AND name = $2",
            key
        )
        guard row.rowCount == 1 else { return nil }
        let pending = try connection.query(
            "SELECT seq FROM consumer_pending WHERE account = $1 AND consumer = $2",
            key
        )
        return StoredCursor(
            floor: try row.decode(Int64.self, row: 0, column: 0),
            delivered: try row.decode(Int64.self, row: 0, column: 1),
            pending: Set(try (0..<pending.rowCount).map { try pending.decode(Int64.self, row: $0, column: 0) })
        )
    }

    /// The stored seqs above `low` and at most `high` whose topic `consumer` matches, ascending.
    static func matchingSeqs(
        _ consumer: CrashConsumer,
        above low: Int64,
        upTo high: Int64,
        url: String
    ) throws
        -> [Int64]
    {
        let connection = try Connection(url)
        defer { connection.close() }
        let result = try connection.query(
            "SELECT seq, topic FROM messages WHERE seq > $1 AND seq <= $2 ORDER BY seq",
            [low.postgresBind, high.postgresBind]
        )
        var seqs: [Int64] = []
        for row in 0..<result.rowCount where consumer.matches(try result.decode(String.self, row: row, column: 1)) {
            seqs.append(try result.decode(Int64.self, row: row, column: 0))
        }
        return seqs
    }
}

/// The message log as the crash checks read it, each call on a connection of its own.
enum CrashLog {
    /// A stored message, as the checks compare it.
    struct Row: Equatable {
        var topic: String
        var account: String
        var payload: [UInt8]
        var id: String?
    }

    /// The highest stored seq (0 for none).
    static func headSeq(_ url: String) throws -> Int64 {
        try Self.count("SELECT coalesce(max(seq), 0) FROM messages", url: url)
    }

    /// The one bigint a query returns.
    static func count(_ sql: String, url: String) throws -> Int64 {
        let connection = try Connection(url)
        defer { connection.close() }
        return try connection.query(sql).decode(Int64.self, row: 0, column: 0)
    }

    /// Waits (at most 20 s) until a message with seq above `seq` has committed.
    static func waitForCommits(after seq: Int64, url: String) async throws {
        for _ in 0..<2000 {
            if try Self.headSeq(url) > seq { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw DaemonFailure(description: "no publish committed within 20 s")
    }

    /// Every acknowledged publish (by `account`) is stored with its exact topic, account, payload and id.
    static func checkStored(
        _ acked: [Int64: ProcessClient.Outgoing],
        account: String,
        url: String,
        _ label: String
    ) throws {
        let rows = try Self.rows(seqs: Array(acked.keys), url: url)
        var lost: [Int64] = []
        var altered: [Int64] = []
        for (seq, message) in acked.sorted(by: { $0.key < $1.key }) {
            guard let row = rows[seq] else {
                lost.append(seq)
                continue
            }
            let sent = Row(
                topic: message.topic,
                account: account,
                payload: message.payload,
                id: message.headers.first?.value
            )
            if row != sent { altered.append(seq) }
        }
        #expect(lost.isEmpty, "\(label): acknowledged but not stored: \(lost.prefix(20))")
        #expect(altered.isEmpty, "\(label): stored differently from what was acknowledged: \(altered.prefix(20))")
    }

    /// The stored messages with these seqs.
    static func rows(seqs: [Int64], url: String) throws -> [Int64: Row] {
        let connection = try Connection(url)
        defer { connection.close() }
        let result = try connection.query(
            "SELECT seq, topic, account, payload, headers->>'id' FROM messages WHERE seq = ANY($1)",
            [seqs.postgresBind]
        )
        var rows: [Int64: Row] = [:]
        for row in 0..<result.rowCount {
            rows[try result.decode(Int64.self, row: row, column: 0)] = Row(
                topic: try result.decode(String.self, row: row, column: 1),
                account: try result.decode(String.self, row: row, column: 2),
                payload: try result.decode([UInt8].self, row: row, column: 3),
                id: try result.decode(String?.self, row: row, column: 4)
            )
        }
        return rows
    }

    /// The seqs stored under each of `ids`, ascending.
    static func seqsByID(_ ids: [String], url: String) throws -> [String: [Int64]] {
        let connection = try Connection(url)
        defer { connection.close() }
        let result = try connection.query(
            "SELECT headers->>'id', seq FROM messages WHERE headers->>'id' = ANY($1) ORDER BY seq",
            [ids.postgresBind]
        )
        var seqs: [String: [Int64]] = [:]
        for row in 0..<result.rowCount {
            seqs[try result.decode(String.self, row: row, column: 0), default: []].append(
                try result.decode(Int64.self, row: row, column: 1)
            )
        }
        return seqs
    }

    /// Every `id` header that more than one stored message carries (idempotency broken).
    static func idsStoredMoreThanOnce(_ url: String) throws -> [String] {
        let connection = try Connection(url)
        defer { connection.close() }
        let result = try connection.query(
            """
            SELECT headers->>'id' FROM messages WHERE headers ? 'id'
            GROUP BY account, headers->>'id' HAVING count(*) > 1
            """
        )
        return try (0..<result.rowCount).map { try result.decode(String.self, row: $0, column: 0) }
    }
}

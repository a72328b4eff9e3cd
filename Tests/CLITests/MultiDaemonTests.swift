import Foundation
import Postgres
import Testing

/// Three real `liaisond` processes on one database (docs/ARCHITECTURE.md, invariant 13): every
/// daemon delivers every committed message to its own subscribers, whichever daemon stored it,
/// in seq order with no gap and no duplicate, through a `kill -9` of one of them; a durable
/// consumer is bound by one connection across all of them.
@Suite(.cliDatabase, .serialized)
struct MultiDaemonTests {
    /// A field office (default rules: it publishes under `field.mm.>`).
    private static let publisher = "unhcr-mm-sittwe"
    /// An entity (default rules: it may subscribe to `field.>`).
    private static let subscriber = "ohchr"
    private static let topics = [
        "field.mm.sittwe.report", "field.mm.sittwe.early-warning", "field.mm.yangon.report",
        "field.mm.yangon.early-warning",
    ]

    /// What a subscription connection received, collected on a thread of its own.
    private final class Collector: @unchecked Sendable {
        // @unchecked: every field is touched only under `lock`.
        private let lock = NSLock()
        private var received: [Int64] = []
        private var stopped = false
        private var ended = false

        /// Reads `MSG` frames of `client` until ``stop()`` or the connection closes; with
        /// `ackSID`, confirms the position every 50 messages (`ACK`, cumulative for `ack=auto`).
        init(_ client: ProcessClient, ackSID: String? = nil) {
            Thread {
                var count = 0
                while !self.isStopped {
                    let frame: ProcessClient.Frame?
                    do {
                        frame = try client.nextFrame(timeout: .milliseconds(200))
                    } catch {
                        continue
                    }
                    guard let frame else { break }
                    guard case .message(let delivery) = frame else { continue }
                    self.lock.withLock { self.received.append(delivery.seq) }
                    count += 1
                    if let ackSID, count % 50 == 0 { try? client.send(line: "ACK \(ackSID) \(delivery.seq)") }
                }
                self.lock.withLock { self.ended = true }
            }.start()
        }

        private var isStopped: Bool { self.lock.withLock { self.stopped } }
        var seqs: [Int64] { self.lock.withLock { self.received } }
        var hasEnded: Bool { self.lock.withLock { self.ended } }
        func stop() { self.lock.withLock { self.stopped = true } }
    }

    private static func connect(_ daemon: Daemon, token: String, account: String) async throws -> ProcessClient {
        let port = daemon.port
        return try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            try client.authenticate(account: account, token: token)
            return client
        }
    }

    /// Pipelines `count` PUBs on `daemon`; returns the seqs acknowledged `OK PUB`, by topic.
    private static func publish(
        _ daemon: Daemon,
        token: String,
        count: Int,
        label: String
    ) async throws -> [Int64: String] {
        let client = try await Self.connect(daemon, token: token, account: Self.publisher)
        let run = try await ProcessClient.onThread {
            client.publish(count: count, window: 32, idleTimeout: .seconds(10)) { index in
                ProcessClient.Outgoing(
                    topic: Self.topics[index % Self.topics.count],
                    payload: Array("\(label) #\(index)".utf8)
                )
            }
        }
        var acked: [Int64: String] = [:]
        for (index, reply) in run.replies.enumerated() {
            if case .published(let seq, _) = reply { acked[seq] = Self.topics[index % Self.topics.count] }
        }
        return acked
    }

    /// The stored messages, seq to topic.
    private static func stored() throws -> [Int64: String] {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let result = try connection.query("SELECT seq, topic FROM messages")
        var rows: [Int64: String] = [:]
        for row in 0..<result.rowCount {
            rows[try result.decode(Int64.self, row: row, column: 0)] = try result.decode(
                String.self,
                row: row,
                column: 1
            )
        }
        return rows
    }

    /// Waits (at most 30 s) until each collector has at least as many deliveries as expected.
    private static func waitFor(_ collectors: [(Collector, Int)]) async throws {
        for _ in 0..<300 {
            if collectors.allSatisfy({ Set($0.0.seqs).count >= $0.1 }) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private static func isAscending(_ seqs: [Int64]) -> Bool {
        zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 }
    }

    /// Subscribes and starts collecting; throws unless the reply is `OK SUB`. With `retrying`, an
    /// `ERR 409` is asked again every 100 ms (at most 15 s) while a killed daemon's lease is freed.
    private static func subscribe(
        _ daemon: Daemon,
        token: String,
        _ line: String,
        ackSID: String? = nil,
        retrying: Bool = false
    ) async throws -> Collector {
        let client = try await Self.connect(daemon, token: token, account: Self.subscriber)
        var reply = ""
        for _ in 0..<(retrying ? 150 : 1) {
            reply = try await ProcessClient.onThread { try client.command(line) }
            if reply.hasPrefix("OK SUB") { return Collector(client, ackSID: ackSID) }
            try #require(retrying && reply.hasPrefix("ERR 409"), "\(line): \(reply)")
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DaemonFailure(description: "\(line) still refused after 15 s: \(reply)")
    }

    /// Ends the database session holding `durable`'s lease (the subscriber's) with
    /// `pg_terminate_backend`, as a restart of its backend or a broken connection would.
    ///
    /// - Returns: How many sessions were terminated (1 when the durable was bound).
    private static func terminateLeaseHolder(_ durable: String) throws -> Int64 {
        // The lease's advisory key, as ConsumerLeases computes it (FNV-1a of account, 0, name).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array(Self.subscriber.utf8) + [0] + Array(durable.utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        return try connection.query(
            """
            SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted
              AND ((classid::bigint << 32) | objid::bigint) = $1
            """,
            [Int64(bitPattern: hash).postgresBind]
        ).decode(Int64.self, row: 0, column: 0)
    }

    /// The suite's database, tokens of the publisher and the subscriber, and two daemons on it.
    private static func twoDaemons() async throws -> (url: String, pub: String, sub: String, a: Daemon, b: Daemon) {
        let url = try CLIDatabase.currentURL()
        let tokens = try await Daemon.issueTokens(for: [Self.publisher, Self.subscriber])
        let pub = try #require(tokens[Self.publisher])
        let sub = try #require(tokens[Self.subscriber])
        return (url, pub, sub, try await Daemon(databaseURL: url), try await Daemon(databaseURL: url))
    }

    /// Asks `line` (a durable `SUB`) every 10 ms for at most a second while it is refused `ERR 409`.
    ///
    /// - Returns: Whether it was bound (`OK SUB`).
    private static func bindSoon(_ client: ProcessClient, _ line: String) async throws -> Bool {
        try await ProcessClient.onThread {
            let deadline = ContinuousClock.now + .seconds(1)
            while ContinuousClock.now < deadline {
                let reply = try client.command(line)
                if reply.hasPrefix("OK SUB") { return true }
                guard reply.hasPrefix("ERR 409") else { throw DaemonFailure(description: "\(line): \(reply)") }
                Thread.sleep(forTimeInterval: 0.01)
            }
            return false
        }
    }

    /// Publishers and subscribers spread over three daemons; the third is killed with SIGKILL
    /// mid-publish and restarted. Every subscriber gets exactly the ascending set of stored seqs
    /// its pattern selects: live wildcard subscribers on the two daemons that stay up, a replay
    /// from seq 1 that starts while publishing goes on, and a durable consumer on the killed
    /// daemon that resumes on its restart. Everything acknowledged `OK PUB` is among them.
    @Test func everySubscriberGetsItsOrderedSetAcrossDaemonsThroughAKillNine() async throws {
        let (url, pub, sub, a, b) = try await Self.twoDaemons()
        let c = try await Daemon(databaseURL: url)
        let start = try CrashLog.headSeq(url)
        let reports = try await Self.subscribe(a, token: sub, "SUB r field.mm.*.report")
        let everything = try await Self.subscribe(b, token: sub, "SUB e field.>")
        let durableLine = "SUB d field.mm.yangon.* durable=multi-yangon ack=auto"
        let yangonBefore = try await Self.subscribe(c, token: sub, durableLine, ackSID: "d")

        async let fromA = Self.publish(a, token: pub, count: 1_500, label: "a")
        async let fromB = Self.publish(b, token: pub, count: 1_500, label: "b")
        async let fromC = Self.publish(c, token: pub, count: 1_500, label: "c")
        try await CrashLog.waitForCommits(after: start + 300, url: url)
        let replay = try await Self.subscribe(a, token: sub, "SUB p field.mm.sittwe.> from=1")
        try await CrashLog.waitForCommits(after: start + 1_200, url: url)
        await c.crash()
        let ackedBeforeKill = try await fromC
        let restarted = try await c.restarted()
        let yangonAfter = try await Self.subscribe(restarted, token: sub, durableLine, ackSID: "d", retrying: true)
        let fromC2 = try await Self.publish(restarted, token: pub, count: 500, label: "c2")
        var acked = try await fromA
        acked.merge(try await fromB) { first, _ in first }
        acked.merge(ackedBeforeKill) { first, _ in first }
        acked.merge(fromC2) { first, _ in first }

        let stored = try Self.stored()
        let missing = acked.keys.filter { stored[$0] != acked[$0] }
        #expect(missing.isEmpty, "acknowledged but not stored as sent: \(missing.sorted().prefix(10))")
        func expected(after: Int64, _ select: (String) -> Bool) -> [Int64] {
            stored.filter { $0.key > after && select($0.value) }.keys.sorted()
        }
        let wantReports = expected(after: start) { $0.hasSuffix(".report") }
        let wantEverything = expected(after: start) { _ in true }
        let wantReplay = expected(after: 0) { $0.hasPrefix("field.mm.sittwe.") }
        let wantYangon = expected(after: start) { $0.hasPrefix("field.mm.yangon.") }
        try await Self.waitFor([
            (reports, wantReports.count), (everything, wantEverything.count), (replay, wantReplay.count),
            (yangonAfter, Set(wantYangon).subtracting(yangonBefore.seqs).count),
        ])
        for collector in [reports, everything, replay, yangonBefore, yangonAfter] { collector.stop() }

        #expect(reports.seqs == wantReports, "field.mm.*.report on daemon A")
        #expect(everything.seqs == wantEverything, "field.> on daemon B")
        #expect(replay.seqs == wantReplay, "field.mm.sittwe.> from=1 on daemon A, started mid-publish")
        // The durable consumer: each session ascending; the second resumes at its ack floor, so
        // it repeats what the first got but did not confirm, and together they miss nothing.
        #expect(yangonBefore.hasEnded, "the killed daemon's subscriber saw its connection close")
        #expect(Self.isAscending(yangonBefore.seqs) && Self.isAscending(yangonAfter.seqs))
        #expect(Set(yangonBefore.seqs).union(yangonAfter.seqs).sorted() == wantYangon)
        #expect(yangonAfter.seqs.first.map { $0 <= (yangonBefore.seqs.last ?? start) + 1 } ?? true)
        print(
            "MultiDaemonTests: \(stored.count) stored, \(acked.count) acknowledged (\(ackedBeforeKill.count) by the"
                + " killed daemon before SIGKILL); durable got \(yangonBefore.seqs.count) + \(yangonAfter.seqs.count)"
        )
        for daemon in [a, b, restarted] { await daemon.stop() }
    }

    /// A durable consumer bound on daemon A is refused `ERR 409` on daemon B; once A is killed
    /// with SIGKILL, B binds it (within seconds: the lease dies with A's database session), and
    /// the restarted A is refused in turn.
    @Test func aDurableBoundOnOneDaemonIsRefusedOnAnotherUntilItsHolderIsKilled() async throws {
        let url = try CLIDatabase.currentURL()
        let tokens = try await Daemon.issueTokens(for: [Self.subscriber])
        let sub = try #require(tokens[Self.subscriber])
        let a = try await Daemon(databaseURL: url)
        let b = try await Daemon(databaseURL: url)
        let line = "SUB d field.> durable=multi-lease"
        let holder = try await Self.subscribe(a, token: sub, line)
        let other = try await Self.connect(b, token: sub, account: Self.subscriber)
        let refused = try await ProcessClient.onThread { try other.command(line) }
        #expect(refused.hasPrefix("ERR 409"), "\(refused)")

        await a.crash()
        #expect(holder.seqs.isEmpty)
        let bound = try await Self.subscribe(b, token: sub, line, retrying: true)
        let restarted = try await a.restarted()
        let late = try await Self.connect(restarted, token: sub, account: Self.subscriber)
        let refusedAgain = try await ProcessClient.onThread { try late.command(line) }
        #expect(refusedAgain.hasPrefix("ERR 409"), "\(refusedAgain)")
        bound.stop()
        for daemon in [restarted, b] { await daemon.stop() }
    }

    /// A database reconnect does not leave two holders: daemon A's consumer connection is
    /// terminated (its lease with it), daemon B binds the durable, and A, finding the lease taken
    /// when it reconnects, closes the connection that held it.
    @Test func aLeaseLostInADatabaseReconnectClosesItsOldHolder() async throws {
        let url = try CLIDatabase.currentURL()
        let tokens = try await Daemon.issueTokens(for: [Self.subscriber])
        let sub = try #require(tokens[Self.subscriber])
        let a = try await Daemon(databaseURL: url)
        let b = try await Daemon(databaseURL: url)
        let line = "SUB d field.> durable=multi-reconnect"
        let holder = try await Self.subscribe(a, token: sub, line)
        #expect(try Self.terminateLeaseHolder("multi-reconnect") == 1, "one session held the lease")

        let bound = try await Self.subscribe(b, token: sub, line, retrying: true)
        for _ in 0..<150 where !holder.hasEnded { try await Task.sleep(for: .milliseconds(100)) }
        #expect(holder.hasEnded, "daemon A closed the connection whose lease daemon B took")
        #expect(!bound.hasEnded)
        bound.stop()
        for daemon in [a, b] { await daemon.stop() }
    }

    /// The lease holder's backend is terminated while messages flow: daemon B binds the durable
    /// while A's session still receives, until A's lease check closes it. What the consumer sees
    /// in that window (docs/ARCHITECTURE.md, "Durable consumers"): each session in seq order,
    /// B's from the recorded floor, so messages A got but had not confirmed come again; none
    /// is skipped, since progress only moves forward (`GREATEST` in Consumers+DeliveryState).
    @Test func aLeaseHolderTerminatedMidStreamLosesNothingAcknowledged() async throws {
        let (url, pub, sub, a, b) = try await Self.twoDaemons()
        let start = try CrashLog.headSeq(url)
        let line = "SUB d field.> durable=multi-overlap ack=auto"
        let holder = try await Self.subscribe(a, token: sub, line, ackSID: "d")
        async let published = Self.publish(a, token: pub, count: 2_000, label: "overlap")
        try await CrashLog.waitForCommits(after: start + 500, url: url)
        // Daemon A takes the lease again if it reconnects (a progress write, its lease check)
        // before B binds: then A holds it alone, and its backend is terminated again.
        let client = try await Self.connect(b, token: sub, account: Self.subscriber)
        var attempts = 0
        var boundOnB = false
        while !boundOnB && attempts < 10 {
            attempts += 1
            #expect(try Self.terminateLeaseHolder("multi-overlap") == 1, "one session held the lease")
            boundOnB = try await Self.bindSoon(client, line)
        }
        try #require(boundOnB, "daemon B never bound the durable before daemon A took it again")
        let bound = Collector(client, ackSID: "d")
        let acked = try await published
        for _ in 0..<150 where !holder.hasEnded { try await Task.sleep(for: .milliseconds(100)) }
        #expect(holder.hasEnded, "daemon A closed the connection whose lease daemon B took")

        let want = try Self.stored().filter { $0.key > start }.keys.sorted()
        #expect(Set(acked.keys).isSubset(of: want), "acknowledged but not stored")
        try await Polling.until("daemon B's session reaches the last stored seq", within: .seconds(30)) {
            bound.seqs.last == want.last
        }
        bound.stop()
        let bindFloor = bound.seqs.first ?? Int64.max
        #expect(Self.isAscending(holder.seqs) && Self.isAscending(bound.seqs))
        #expect(Set(holder.seqs).union(bound.seqs).sorted() == want, "a message skipped by both sessions")
        #expect(bindFloor <= (holder.seqs.last ?? start) + 1, "B started past what A had received")
        let twice = Set(holder.seqs).intersection(bound.seqs).count
        let overlap = holder.seqs.filter { $0 > bindFloor }.count
        print(
            "MultiDaemonTests overlap: \(want.count) stored, B bound at termination \(attempts); A got \(holder.seqs.count), B \(bound.seqs.count) from seq"
                + " \(bindFloor); \(twice) delivered to both, \(overlap) to A after B's first"
        )
        for daemon in [a, b] { await daemon.stop() }
    }
}

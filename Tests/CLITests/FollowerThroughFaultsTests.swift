import Foundation
import Postgres
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The README's promise for an office on a flaky link, on the real processes: a
/// `liaisonctl sub --durable` (`ack=auto` with cumulative confirms, and `--ack` for
/// `ack=explicit`) runs through ``FaultProxy`` while a publisher posts straight to `liaisond`, and
/// the link is cut, reset, cut after a random number of bytes, stalled, throttled and refused at
/// random (seeded) points. Nobody restarts the sub: it must reconnect by itself and print every
/// message once, the in-order ones in seq order, while the consumer's stored position never
/// passes what it printed. The time limit is a backstop (every wait inside has its own limit)
/// that leaves room for longer runs with `LIAISON_TEST_FLAP_ROUNDS`.
@Suite(.cliDatabase, .serialized, .timeLimit(.minutes(10)))
struct FollowerThroughFaultsTests {
    /// Rounds of faults per link: 1, or `LIAISON_TEST_FLAP_ROUNDS` for a longer hunt (each round
    /// adds 2,000 messages and, with the backoff growing, up to a minute).
    private static let rounds = ProcessInfo.processInfo.environment["LIAISON_TEST_FLAP_ROUNDS"].flatMap { Int($0) } ?? 1
    /// Messages per run.
    private static let count = 2_000 * Self.rounds
    /// Posts under `hq.ohchr.>` (an entity publishes under its own name).
    private static let publisher = "ohchr"
    /// Two field offices, which the default rules let read `hq.>`: one follows with `ack=auto`,
    /// the other with `--ack` (`ack=explicit`), each through a link of its own.
    private static let offices = [("unhcr-ke-kakuma", false), ("ohchr-ke-nairobi", true)]

    /// One printed message: a JSON line of `liaisonctl sub --format jsonl`.
    private struct Printed {
        var seq: Int64
        var headers: [String: String]
        var payload: [UInt8]

        var isAhead: Bool { self.headers["liaison.ahead"] == "1" }
    }

    /// One office: its `liaisonctl sub --durable`, the proxy its link runs through, the faults
    /// planned for that link and the watch on its stored position.
    private struct Office: Sendable {
        var explicitAcks: Bool
        var account: String
        var name: String
        var plan: [LinkFault.Step]
        var proxy: FaultProxy
        var sub: ChildProcess
        var watch: FloorWatch

        var mode: String { self.explicitAcks ? "ack=explicit" : "ack=auto" }
        /// How the office is stopped at the end; both must end in exit 0.
        var stopSignal: Int32 { self.explicitAcks ? SIGTERM : SIGINT }
    }

    @Test func durableSubsInBothAckModesPrintEveryMessageOnceAndInOrderThroughFlappingLinks() async throws {
        let seed = SeededGenerator.seed()
        print("FollowerThroughFaults: seed \(seed) (repeat with LIAISON_TEST_SEED=\(seed))")
        var random = SeededGenerator(seed: seed)
        let prefix = "hq.ohchr.flap"
        let messages = Self.messages(under: prefix, using: &random)
        let tokens = try await Daemon.issueTokens(for: [Self.publisher] + Self.offices.map(\.0))
        let url = try CLIDatabase.currentURL()
        let daemon = try await Daemon(databaseURL: url)
        var offices: [Office] = []
        defer {
            for office in offices {
                office.watch.stop()
                office.proxy.stop()
            }
        }
        for (account, explicitAcks) in Self.offices {
            let proxy = try await FaultProxy.start(target: "127.0.0.1", port: daemon.port)
            let name = "flap-\(explicitAcks ? "explicit" : "auto")"
            let sub = try ChildProcess(
                "liaisonctl",
                ["sub", "\(prefix).>", "--durable", name, "--from", "all", "--format", "jsonl"]
                    + (explicitAcks ? ["--ack"] : []),
                environment: [
                    "LIAISON_SERVER": "127.0.0.1:\(proxy.port)", "LIAISON_ACCOUNT": account,
                    "LIAISON_TOKEN": try #require(tokens[account]),
                ]
            )
            let watch = FloorWatch(url: url, account: account, name: name, topicPrefix: prefix, output: sub.stdoutURL)
            let plan = LinkFault.plan(rounds: Self.rounds, using: &random)
            offices.append(
                Office(
                    explicitAcks: explicitAcks,
                    account: account,
                    name: name,
                    plan: plan,
                    proxy: proxy,
                    sub: sub,
                    watch: watch
                )
            )
        }
        let started = ContinuousClock.now
        var watching: [Task<Void, any Error>] = []
        for office in offices {
            try await Self.waitUntilSubscribed(office, url: url)
            watching.append(Task { try await ProcessClient.onThread { try office.watch.run() } })
        }

        // The publisher posts straight to the daemon while each office's link flaps on its own.
        let publisherToken = try #require(tokens[Self.publisher])
        let publishing = Task { try await Self.publish(messages, port: daemon.port, token: publisherToken) }
        let kills = try await withThrowingTaskGroup(of: (String, Int).self) { group in
            for office in offices {
                group.addTask { (office.name, try await Self.flap(office, since: started)) }
            }
            return try await group.reduce(into: [String: Int]()) { $0[$1.0] = $1.1 }
        }
        let seqs = try await publishing.value
        print("FollowerThroughFaults: \(ContinuousClock.now - started) published \(seqs.count)")

        // The links stay up now: each sub catches up, and none may have stopped by itself.
        for office in offices {
            try await Self.waitUntil(
                office.sub,
                "printed every message",
                within: .seconds(60),
                every: .milliseconds(200)
            ) {
                let lines = $0.completeLines
                return lines.count >= seqs.count
                    && Set(lines.compactMap { try? Self.parse($0).seq }).isSuperset(of: seqs)
            }
            print("FollowerThroughFaults \(office.mode): \(ContinuousClock.now - started) printed everything")
            // With its link up (a last fault may have taken it down after the last message), the
            // sub confirms or acknowledges its way to the last message by itself.
            try await Self.waitUntilUp(office.sub, proxy: office.proxy)
            try await Self.waitUntil(office.sub, "moved its position to the last message", every: .milliseconds(100)) {
                _ in try Self.storedState(of: office, url: url).floor == seqs.last
            }
        }
        try await Task.sleep(for: .milliseconds(300))  // a straggling duplicate would show now
        for office in offices {
            let notices = LinkNotices(office.sub.stderr)
            office.sub.send(office.stopSignal)
            let status = await office.sub.waitForExit(within: .seconds(15))
            office.watch.stop()
            #expect(
                status == 0,
                "\(office.mode): sub ended with \(status.map(String.init) ?? "no exit") on signal \(office.stopSignal)"
            )
            try await Self.check(
                office,
                notices: notices,
                kills: kills[office.name] ?? 0,
                seqs: seqs,
                messages: messages,
                url: url
            )
        }
        for task in watching { try await task.value }
        await daemon.stop()
    }

    /// Applies the office's fault plan to its link; before each fault that takes the link down it
    /// waits until the sub has resumed, and after it until the sub noticed.
    ///
    /// - Returns: How many faults took the link down.
    private static func flap(_ office: Office, since started: ContinuousClock.Instant) async throws -> Int {
        var kills = 0
        for step in office.plan {
            try await Task.sleep(for: .milliseconds(step.pause))
            let before = LinkNotices(office.sub.stderr)
            if step.fault.takesLinkDown { try await Self.waitUntilUp(office.sub, proxy: office.proxy) }
            let hit = try await step.fault.apply(to: office.proxy)
            if hit {
                kills += 1
                try await Self.waitUntil(office.sub, "noticed the \(step.fault)") {
                    LinkNotices($0.stderr).lost > before.lost
                }
            }
            print(
                "FollowerThroughFaults \(office.mode): \(ContinuousClock.now - started) \(step.fault), link down: \(hit)"
            )
        }
        return kills
    }

    /// What a user checks on the office's output, and what its stored position says.
    private static func check(
        _ office: Office,
        notices: LinkNotices,
        kills: Int,
        seqs: [Int64],
        messages: [ProcessClient.Outgoing],
        url: String
    ) async throws {
        let mode = office.mode
        let printed = try office.sub.completeLines.map(Self.parse)
        let ahead = printed.filter(\.isAhead).count
        let again = printed.filter { $0.headers["liaison.delivery"] != nil }.count
        let (samples, highest, violations) = office.watch.result
        print(
            "FollowerThroughFaults \(mode): \(notices); printed \(printed.count), \(ahead) ahead,"
                + " \(again) redeliveries; position sampled \(samples) times"
        )
        let printedSeqs = printed.map(\.seq)
        let missing = Set(seqs).subtracting(printedSeqs).sorted()
        #expect(missing.isEmpty, "\(mode): \(missing.count) never printed, from \(missing.prefix(20))")
        let twice = Dictionary(grouping: printedSeqs, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(twice.isEmpty, "\(mode): \(twice.count) printed twice: \(twice.prefix(20))")
        #expect(Set(printedSeqs).isSubset(of: seqs), "\(mode): printed seqs that were not published")
        let inOrder = printed.filter { !$0.isAhead }.map(\.seq)
        let backwards = zip(inOrder, inOrder.dropFirst()).filter { $0 >= $1 }
        #expect(backwards.isEmpty, "\(mode): in-order output went backwards: \(backwards.prefix(10))")
        let aheadNotFlash = printed.filter { $0.isAhead && $0.headers["prio"] != "flash" }.map(\.seq)
        #expect(aheadNotFlash.isEmpty, "\(mode): sent ahead without prio=flash: \(aheadNotFlash.prefix(10))")
        let sent = Dictionary(uniqueKeysWithValues: zip(seqs, messages))
        let altered = printed.filter { message in
            let original = sent[message.seq]
            return original?.payload != message.payload || original?.headers.first?.value != message.headers["prio"]
        }
        #expect(altered.isEmpty, "\(mode): payload or prio differs: \(altered.prefix(5).map(\.seq))")

        // It reconnected by itself, with the documented notices and backoff.
        #expect(
            notices.lost >= kills && kills >= 3 * Self.rounds,
            "\(mode): \(kills) faults took the link down; \(notices)"
        )
        #expect(notices.resumed == notices.lost, "\(mode): \(notices)")
        #expect(notices.other.isEmpty && notices.delays.allSatisfy { $0 <= 30_000 }, "\(mode): \(notices)")

        // The stored position never passed what was printed, and ends at the last message.
        #expect(violations.isEmpty, "\(mode): \(violations)")
        #expect(samples > 10 && highest > 0, "\(mode): position sampled \(samples) times, highest \(highest)")
        // The daemon records a closing session's progress just after the connection ends.
        try await Task.sleep(for: .milliseconds(300))
        let stored = try Self.storedState(of: office, url: url)
        #expect(stored.floor <= (printedSeqs.max() ?? 0), "\(mode): floor \(stored.floor) past the last printed")
        #expect(stored.floor == seqs.last, "\(mode): floor \(stored.floor) after a clean stop; last \(seqs.last ?? 0)")
        #expect(stored.pending == 0 && stored.deadLetters == 0, "\(mode): \(stored)")
    }

    // MARK: - Helpers

    /// `count` messages under `prefix`: mostly small, some of a few KiB, a few of 16–64 KiB, with
    /// bytes of every value; 3 % `prio=flash`, 10 % `prio=urgent`.
    private static func messages(
        under prefix: String,
        using random: inout some RandomNumberGenerator
    ) -> [ProcessClient.Outgoing] {
        let topics = ["situation-report", "early-warning", "guidance-note"].map { "\(prefix).\($0)" }
        return (0..<Self.count).map { _ in
            let roll = Int.random(in: 0..<100, using: &random)
            let size =
                roll < 70
                ? Int.random(in: 0...300, using: &random)
                : roll < 95
                    ? Int.random(in: 301...4_096, using: &random) : Int.random(in: 16_384...65_536, using: &random)
            var payload: [UInt8] = []
            payload.reserveCapacity(size + 8)
            while payload.count < size { withUnsafeBytes(of: random.next()) { payload += $0 } }
            let prio = Int.random(in: 0..<100, using: &random)
            let headers = prio < 3 ? ["flash"] : prio < 13 ? ["urgent"] : []
            return ProcessClient.Outgoing(
                topic: topics.randomElement(using: &random)!,
                payload: Array(payload.prefix(size)),
                headers: headers.map { ProcessClient.Outgoing.Header(key: "prio", value: $0) }
            )
        }
    }

    /// Publishes `messages` straight to the daemon (not through the proxy), 50 at a time with a
    /// pause between, so that the stream flows while the link flaps.
    ///
    /// - Returns: The seqs, in the order of `messages`.
    /// - Throws: When any publish is not answered `OK PUB <seq>`.
    private static func publish(_ messages: [ProcessClient.Outgoing], port: Int, token: String) async throws -> [Int64]
    {
        try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            try client.authenticate(account: Self.publisher, token: token)
            var seqs: [Int64] = []
            for start in stride(from: 0, to: messages.count, by: 50) {
                let chunk = Array(messages[start..<min(start + 50, messages.count)])
                let run = client.publish(count: chunk.count, window: chunk.count) { chunk[$0] }
                for reply in run.replies {
                    guard case .published(let seq, false) = reply else {
                        throw DaemonFailure(description: "publish \(seqs.count) got \(reply)")
                    }
                    seqs.append(seq)
                }
                guard run.ending == .complete else { throw DaemonFailure(description: "publisher: \(run.ending)") }
                usleep(120_000)
            }
            return seqs
        }
    }

    /// One JSON line of the sub's output.
    private static func parse(_ line: Substring) throws -> Printed {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return Printed(
            seq: try #require((object["seq"] as? NSNumber)?.int64Value, "\(line.prefix(200))"),
            headers: object["headers"] as? [String: String] ?? [:],
            payload: try #require((object["payload_base64"] as? String).flatMap { Data(base64Encoded: $0) }).map { $0 }
        )
    }

    /// Waits until the office's first `SUB` was accepted: its durable consumer exists.
    private static func waitUntilSubscribed(_ office: Office, url: String) async throws {
        try await Self.waitUntil(office.sub, "created consumer \(office.name)") { _ in
            let connection = try Connection(url)
            defer { connection.close() }
            let key = [office.account.postgresBind, office.name.postgresBind]
            return try connection.query("SELECT 1 FROM durable_cursors WHERE account = $1 AND name = $2", key)
                .rowCount == 1
        }
    }

    /// Waits until the sub says its link is up (every `link lost` was followed by `resumed`) and
    /// the proxy holds its connection; the wait includes the sub's backoff, up to 30 s.
    private static func waitUntilUp(_ sub: ChildProcess, proxy: FaultProxy) async throws {
        try await Self.waitUntil(sub, "resumed", within: .seconds(45)) { sub in
            try LinkNotices(sub.stderr).isUp && proxy.stats().connections >= 1
        }
    }

    /// Polls `condition` every `interval`.
    ///
    /// - Throws: A failure naming `what` when the sub exits first or `limit` passes.
    private static func waitUntil(
        _ sub: ChildProcess,
        _ what: String,
        within limit: Duration = .seconds(20),
        every interval: Duration = .milliseconds(20),
        _ condition: (ChildProcess) throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let code = sub.exitCode {
                throw DaemonFailure(description: "sub exited (\(code)) before it \(what); stderr:\n\(sub.stderr)")
            }
            if try condition(sub) { return }
            try await Task.sleep(for: interval)
        }
        throw DaemonFailure(description: "sub had not \(what) after \(limit); stderr:\n\(sub.stderr)")
    }

    /// The consumer's stored ack floor, its `consumer_pending` rows and its dead letters.
    private static func storedState(
        of office: Office,
        url: String
    ) throws -> (floor: Int64, pending: Int64, deadLetters: Int64) {
        let connection = try Connection(url)
        defer { connection.close() }
        let key = [office.account.postgresBind, office.name.postgresBind]
        let floor = try connection.query(
            "SELECT acked_seq FROM durable_cursors WHERE account = $1 AND name = $2",
            key
        )
        let pending = try connection.query(
            "SELECT count(*) FROM consumer_pending WHERE account = $1 AND consumer = $2",
            key
        )
        let letters = try connection.query(
            "SELECT count(*) FROM dead_letters WHERE account = $1 AND consumer = $2",
            key
        )
        return (
            try floor.decode(Int64.self, row: 0, column: 0), try pending.decode(Int64.self, row: 0, column: 0),
            try letters.decode(Int64.self, row: 0, column: 0)
        )
    }
}

import Foundation
import LiaisonClient
import LiaisonCore
import Postgres
import Synchronization
import TestSupport
import Testing

/// The library's ``Follower`` (not the CLI) against the real server through ``FaultProxy``, the
/// link cut, reset and cut after a random number of bytes at random (seeded) points while a
/// publisher posts straight to the server: in both ack modes it must hand out every message once,
/// the in-order ones in seq order, reconnecting by itself, and leave the durable's position at the
/// last message. `FollowerTests` covers the same logic against a scripted fake server only.
@Suite(.timeLimit(.minutes(5))) struct FollowerThroughFaultsLibraryTests {
    /// What the follower handed out and how often it (re)connected, shared with the test.
    private final class Handed: Sendable {
        struct State {
            var messages: [ReceivedMessage] = []
            var connected = 0
            var delays: [Int] = []
        }

        let state = Mutex(State())
    }

    @Test(arguments: [AckMode.auto, .explicit])
    func aFollowerThroughRandomCutsHandsOutEveryMessageOnceAndInOrder(ack: AckMode) async throws {
        let seed =
            ProcessInfo.processInfo.environment["LIAISON_TEST_SEED"].flatMap { UInt64($0) }
            ?? .random(in: 0...UInt64.max)
        print("FollowerThroughFaultsLibrary ack=\(ack): seed \(seed) (repeat with LIAISON_TEST_SEED=\(seed))")
        var random = SeededGenerator(seed: seed)
        let faults = (0..<8).map { _ in
            (Int.random(in: 150...700, using: &random), Int.random(in: 0..<3, using: &random))
        }
        let cutAfter = Int.random(in: 1_000...60_000, using: &random)
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let proxy = try await FaultProxy.start(target: "127.0.0.1", port: daemon.port)
            defer { proxy.stop() }
            let (port, token) = (proxy.port, daemon.tokens["unhcr-mm-sittwe"]!)
            let name = "lib-\(ack)"
            let follower = Follower(
                sid: "s",
                pattern: "field.mm.>",
                // Each drop counts one delivery of the oldest message in flight, and a cut-after
                // fault drops every connection for 300 ms: up to 8 drops in a row while one
                // message is the oldest. This test is about links, not poison messages.
                options: FollowerOptions(durable: name, ack: ack, from: "all", maxDeliver: 100),
                reconnect: ReconnectPolicy(initialDelay: .milliseconds(50), maxDelay: .milliseconds(400)),
                connect: {
                    let client = try await LiaisonClient.connect(host: "127.0.0.1", port: port)
                    try await client.auth(account: "unhcr-mm-sittwe", token: token)
                    return client
                }
            )
            let handed = Handed()
            let reading = Task {
                for try await event in follower {
                    switch event {
                    case .message(let message):
                        handed.state.withLock { $0.messages.append(message) }
                        if ack == .explicit { follower.ack(seq: message.seq) }
                    case .connected: handed.state.withLock { $0.connected += 1 }
                    case .reconnecting(let delay): handed.state.withLock { $0.delays.append(delay) }
                    case .disconnected: break
                    }
                }
            }
            while handed.state.withLock({ $0.connected }) == 0 { try await Task.sleep(for: .milliseconds(10)) }

            let publisher = try await daemon.client("unhcr")
            let publishing = Task {
                var seqs: [Int64] = []
                for round in 0..<20 {
                    let batch = (0..<50).map { index in
                        let size = (round * 50 + index) % 17 == 0 ? 20_000 : 10 + (index * 37) % 900
                        let headers: [(String, String)] = index % 23 == 0 ? [("prio", "flash")] : []
                        return (
                            topic: "field.mm.sittwe.report", payload: [UInt8](repeating: 0x61, count: size),
                            headers: headers
                        )
                    }
                    seqs += try await publisher.publishPipelined(batch).map { try $0.get().seq }
                    try await Task.sleep(for: .milliseconds(150))
                }
                return seqs
            }
            var kills = 0
            for (pause, kind) in faults {
                try await Task.sleep(for: .milliseconds(pause))
                guard try proxy.stats().connections > 0 else { continue }
                switch kind {
                case 0: try proxy.cut()
                case 1: try proxy.reset()
                default:
                    try proxy.cutAfter(bytes: cutAfter)
                    try await Task.sleep(for: .milliseconds(300))
                    try proxy.cutAfter(bytes: 0)
                }
                kills += 1
            }
            let seqs = try await publishing.value
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline,
                !Set(handed.state.withLock { $0.messages.map(\.seq) }).isSuperset(of: seqs)
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(300))  // a straggling duplicate would show now
            await follower.stop()
            try await reading.value

            let state = handed.state.withLock { $0 }
            let got = state.messages.map(\.seq)
            print(
                "FollowerThroughFaultsLibrary ack=\(ack): \(kills) faults, \(state.connected) connections, delays \(state.delays)"
            )
            #expect(
                Set(seqs).subtracting(got).isEmpty,
                "never handed out: \(Set(seqs).subtracting(got).sorted().prefix(20))"
            )
            #expect(got.count == Set(got).count, "\(got.count - Set(got).count) handed out twice")
            let inOrder = state.messages.filter { !$0.isAhead }.map(\.seq)
            #expect(zip(inOrder, inOrder.dropFirst()).allSatisfy { $0 < $1 }, "in-order messages went backwards")
            #expect(state.messages.filter(\.isAhead).allSatisfy { $0.headers["prio"] == "flash" })
            #expect(kills >= 4 && state.connected >= 2, "\(kills) faults, \(state.connected) connections")
            #expect(state.delays.allSatisfy { $0 <= 400 }, "delays past the policy's ceiling: \(state.delays)")
            // The server records a closing session's progress just after the connection ends.
            let connection = try db.connect()
            defer { connection.close() }
            var floor: Int64 = 0
            for _ in 0..<100 {
                let row = try connection.query(
                    "SELECT acked_seq FROM durable_cursors WHERE account = 'unhcr-mm-sittwe' AND name = $1",
                    [name.postgresBind]
                )
                floor = try row.decode(Int64.self, row: 0, column: 0)
                if floor == seqs.last { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(floor == seqs.last, "the position after a clean stop: \(floor), last seq \(seqs.last ?? 0)")
        }
    }

    /// A link lost before the position was confirmed: the server resumes from its older floor
    /// and caps a cumulative `ACK` at what the new link has delivered in order. Reported: a
    /// follower that confirmed its whole position 500 ms after reconnecting, while the slow link
    /// had redelivered only a little, never confirmed again (the redeliveries are duplicates), so
    /// even a clean stop left the durable far behind what was handed out, for the next run to
    /// hand out again.
    @Test func afterAReconnectOverASlowLinkACleanStopStillConfirmsEverythingHandedOut() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let proxy = try await FaultProxy.start(target: "127.0.0.1", port: daemon.port)
            defer { proxy.stop() }
            let (port, token) = (proxy.port, daemon.tokens["unhcr-mm-sittwe"]!)
            let follower = Follower(
                sid: "s",
                pattern: "field.mm.>",
                options: FollowerOptions(durable: "slow-link", from: "all"),
                reconnect: ReconnectPolicy(initialDelay: .milliseconds(50), maxDelay: .milliseconds(50)),
                confirm: ConfirmPolicy(every: 100_000, interval: .seconds(4)),
                connect: {
                    let client = try await LiaisonClient.connect(host: "127.0.0.1", port: port)
                    try await client.auth(account: "unhcr-mm-sittwe", token: token)
                    return client
                }
            )
            let handed = Handed()
            let reading = Task {
                for try await event in follower {
                    switch event {
                    case .message(let message): handed.state.withLock { $0.messages.append(message) }
                    case .connected: handed.state.withLock { $0.connected += 1 }
                    case .reconnecting, .disconnected: break
                    }
                }
            }
            while handed.state.withLock({ $0.connected }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            // More than the socket buffers and the high-water mark hold: the replay is paced by the link.
            let seqs = try await daemon.client("unhcr").publishNumbered(3_000, bytes: 4_000)
            // Each wait is bounded and reports where it stopped (this test once hung in CI-like
            // runs, about 1 in 4, without saying at which step; not reproduced in 14 runs since).
            guard try await Self.wait(for: "all 3 000 handed out", handed, { $0.messages.count >= seqs.count }) else {
                await follower.stop()
                return
            }
            // Lost before the first confirm (due 4 s after the first message); back over 1 KB/s.
            try proxy.throttle(bytesPerSecond: 1_000)
            try proxy.cut()
            guard try await Self.wait(for: "reconnected over 1 KB/s", handed, { $0.connected >= 2 }) else {
                await follower.stop()
                return
            }
            try await Task.sleep(for: .seconds(5))  // the confirm after the reconnect has gone out
            try proxy.throttle(bytesPerSecond: 0)
            try await Task.sleep(for: .seconds(2))  // the redeliveries arrive (and are dropped)
            await follower.stop()
            try await reading.value

            #expect(handed.state.withLock { $0.messages.map(\.seq) } == seqs)
            let connection = try db.connect()
            defer { connection.close() }
            var floor: Int64 = 0
            for _ in 0..<100 where floor != seqs.last {
                try await Task.sleep(for: .milliseconds(50))
                let row = try connection.query(
                    "SELECT acked_seq FROM durable_cursors WHERE account = 'unhcr-mm-sittwe' AND name = 'slow-link'"
                )
                floor = try row.decode(Int64.self, row: 0, column: 0)
            }
            #expect(floor == seqs.last, "the position after a clean stop: \(floor), last handed out \(seqs.last ?? 0)")
        }
    }

    /// Waits up to 60 s for `condition` on what the follower handed out; records an issue naming
    /// `step` and the follower's counts when it never holds, and returns whether it held.
    private static func wait(
        for step: String,
        _ handed: Handed,
        _ condition: (Handed.State) -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while !handed.state.withLock({ condition($0) }) {
            guard ContinuousClock.now < deadline else {
                let state = handed.state.withLock { $0 }
                Issue.record(
                    "not \(step) within 60 s: \(state.messages.count) handed out, \(state.connected) connections"
                )
                return false
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}

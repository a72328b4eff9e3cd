import LiaisonCore
import Testing

@testable import LiaisonClient

/// ``Follower`` against ``FakeServer``: it reconnects by itself, re-subscribes where it stopped,
/// hands out every message once and confirms no further than its in-order position.
@Suite(.timeLimit(.minutes(1))) struct FollowerTests {
    private static let quick = ReconnectPolicy(
        initialDelay: .milliseconds(20),
        maxDelay: .milliseconds(100),
        heartbeat: nil
    )

    private static func follower(
        _ server: FakeServer,
        options: FollowerOptions,
        reconnect: ReconnectPolicy = Self.quick,
        confirm: ConfirmPolicy = ConfirmPolicy()
    ) -> Follower {
        let port = server.port
        return Follower(sid: "s1", pattern: "field.mm.>", options: options, reconnect: reconnect, confirm: confirm) {
            let client = try await LiaisonClient.connect(host: "127.0.0.1", port: port)
            try await client.auth(account: "t", token: "x")
            return client
        }
    }

    /// Iterates until a message with seq `last` was handed out; returns the events seen.
    private static func events(_ follower: Follower, until last: Int64) async throws -> [FollowerEvent] {
        var events: [FollowerEvent] = []
        for try await event in follower {
            events.append(event)
            if case .message(let message) = event, message.seq == last {
                break
            }
        }
        return events
    }

    private static func seqs(_ events: [FollowerEvent]) -> [Int64] {
        events.compactMap { event in
            if case .message(let message) = event { return message.seq }
            return nil
        }
    }

    /// `connected, m, m, …, disconnected, reconnecting, connected, …` with the messages dropped.
    private static func shape(_ events: [FollowerEvent]) -> [String] {
        events.compactMap { event in
            switch event {
            case .connected: "connected"
            case .disconnected: "disconnected"
            case .reconnecting: "reconnecting"
            case .message: nil
            }
        }
    }

    private static func acks(_ lines: [String]) -> [Int64] {
        lines.filter { $0.hasPrefix("ACK s1 ") }.compactMap { Int64($0.dropFirst("ACK s1 ".count)) }
    }

    @Test func aNonDurableSubscriptionResumesAfterTheLastInOrderSeq() async throws {
        let server = try await FakeServer.start { connection, line in
            guard line.hasPrefix("SUB ") else { return FakeServer.standard(line) }
            if connection == 0 {
                let frames = [
                    FakeServer.msg(1), FakeServer.msg(2), FakeServer.msg(7, "prio=flash liaison.ahead=1"),
                    FakeServer.msg(3),
                ]
                return .init(write: "OK SUB s1\n" + frames.joined(), close: true)
            }
            // A server that resends 3 and later sends 7 in order: both must be dropped.
            let frames = [FakeServer.msg(3), FakeServer.msg(4), FakeServer.msg(7, "prio=flash"), FakeServer.msg(8)]
            return .init(write: "OK SUB s1\n" + frames.joined())
        }
        let follower = Self.follower(server, options: FollowerOptions(from: "all"))
        let events = try await Self.events(follower, until: 8)
        await follower.stop()
        await server.stop()

        #expect(Self.seqs(events) == [1, 2, 7, 3, 4, 8])
        #expect(Self.shape(events) == ["connected", "disconnected", "reconnecting", "connected"])
        let lines = server.lines
        try #require(lines.count == 2, "\(lines)")
        #expect(lines[0] == ["AUTH t x", "SUB s1 field.mm.> from=all"])
        #expect(lines[1] == ["AUTH t x", "SUB s1 field.mm.> from=4", "QUIT"])
    }

    @Test func aDurableConfirmsCumulativelyWithinItsInOrderPositionAndResumesWithoutFrom() async throws {
        let server = try await FakeServer.start { connection, line in
            if connection == 0, line.hasPrefix("ACK ") {
                // The link drops right after the first confirm.
                return .init(write: FakeServer.standard(line).write, close: true)
            }
            guard line.hasPrefix("SUB ") else { return FakeServer.standard(line) }
            if connection == 0 {
                let frames = [
                    FakeServer.msg(1), FakeServer.msg(2), FakeServer.msg(10, "prio=flash liaison.ahead=1"),
                    FakeServer.msg(3),
                ]
                return .init(write: "OK SUB s1\n" + frames.joined())
            }
            // The server resumes after its confirmed position: 3 again, then in order up to 11.
            let frames = [FakeServer.msg(3, "liaison.delivery=2")] + (4...11).map { FakeServer.msg($0) }
            return .init(write: "OK SUB s1\n" + frames.joined())
        }
        let follower = Self.follower(
            server,
            options: FollowerOptions(durable: "desk", from: "all"),
            confirm: ConfirmPolicy(every: 100, interval: .milliseconds(50))
        )
        let events = try await Self.events(follower, until: 11)
        await follower.stop()
        await server.stop()

        #expect(Self.seqs(events) == [1, 2, 10, 3, 4, 5, 6, 7, 8, 9, 11])
        #expect(Self.shape(events) == ["connected", "disconnected", "reconnecting", "connected"])
        let lines = server.lines
        try #require(lines.count == 2, "\(lines)")
        #expect(lines[0].prefix(2) == ["AUTH t x", "SUB s1 field.mm.> from=all durable=desk"])
        // On the first connection the in-order position never passed 3: the ahead 10 is not confirmed.
        let firstAcks = Self.acks(lines[0])
        #expect(firstAcks.count == 1 && firstAcks.allSatisfy { (1...3).contains($0) }, "\(lines[0])")
        #expect(lines[1].prefix(2) == ["AUTH t x", "SUB s1 field.mm.> durable=desk"])
        #expect(lines[1].suffix(2) == ["ACK s1 11", "QUIT"], "\(lines[1])")
        #expect(Self.acks(lines[1]).allSatisfy { $0 <= 11 })
    }

    @Test func explicitAcksAreSentAndARedeliveryOfAnAcknowledgedMessageIsAcknowledgedAgain() async throws {
        let server = try await FakeServer.start { connection, line in
            guard line.hasPrefix("SUB ") else { return FakeServer.standard(line) }
            if connection == 0 {
                return .init(write: "OK SUB s1\n" + FakeServer.msg(1) + FakeServer.msg(2), close: true)
            }
            let frames = [
                FakeServer.msg(1, "liaison.delivery=2"), FakeServer.msg(2, "liaison.delivery=2"), FakeServer.msg(3),
            ]
            return .init(write: "OK SUB s1\n" + frames.joined())
        }
        let follower = Self.follower(server, options: FollowerOptions(durable: "desk", ack: .explicit))
        var seen: [Int64] = []
        for try await event in follower {
            guard case .message(let message) = event else { continue }
            seen.append(message.seq)
            // The first message is acknowledged before the link drops; the second only after it.
            if message.seq != 2 || seen.count > 2 { follower.ack(seq: message.seq) }
            if message.seq == 3 { break }
        }
        await follower.stop()
        await server.stop()

        #expect(seen == [1, 2, 3])
        let lines = server.lines
        try #require(lines.count == 2, "\(lines)")
        #expect(lines[1].prefix(2) == ["AUTH t x", "SUB s1 field.mm.> durable=desk ack=explicit"])
        // 1 is acknowledged again for its redelivery; 2 was never acknowledged by the application.
        #expect(Self.acks(lines[1]) == [1, 3], "\(lines[1])")
    }

    @Test func aSilentLinkIsFoundByTheHeartbeatAndReplaced() async throws {
        let server = try await FakeServer.start { connection, line in
            if connection == 0, line == "PING" {
                return .init(write: "")
            }
            guard line.hasPrefix("SUB ") else { return FakeServer.standard(line) }
            return .init(write: "OK SUB s1\n" + FakeServer.msg(Int64(connection + 1)))
        }
        var policy = Self.quick
        policy.heartbeat = .milliseconds(100)
        let follower = Self.follower(server, options: FollowerOptions(), reconnect: policy)
        let events = try await Self.events(follower, until: 2)
        await follower.stop()
        await server.stop()

        #expect(Self.seqs(events) == [1, 2])
        #expect(events.contains(.disconnected(reason: "no reply to PING within 100 ms")), "\(events)")
        #expect(server.lines.first?.contains("PING") == true)
    }

    @Test func theFirstRefusalIsThrownALaterConflictIsRetried() async throws {
        let refusing = try await FakeServer.start { _, line in
            line.hasPrefix("SUB ") ? .init(write: "ERR 403 pattern not allowed\n") : FakeServer.standard(line)
        }
        let refused = Self.follower(refusing, options: FollowerOptions())
        await #expect(throws: ServerError(code: 403, text: "pattern not allowed")) {
            for try await _ in refused {}
        }
        await refused.stop()
        await refusing.stop()

        let server = try await FakeServer.start { connection, line in
            guard line.hasPrefix("SUB ") else { return FakeServer.standard(line) }
            switch connection {
            case 0: return .init(write: "OK SUB s1\n" + FakeServer.msg(1), close: true)
            case 1: return .init(write: "ERR 409 durable desk is bound to another connection\n")
            default: return .init(write: "OK SUB s1\n" + FakeServer.msg(2))
            }
        }
        let follower = Self.follower(server, options: FollowerOptions(durable: "desk"))
        let events = try await Self.events(follower, until: 2)
        await follower.stop()
        await server.stop()
        #expect(Self.seqs(events) == [1, 2])
        #expect(
            events.contains(.disconnected(reason: "server replied ERR 409 durable desk is bound to another connection"))
        )
    }
}

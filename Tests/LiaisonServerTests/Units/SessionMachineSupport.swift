import Foundation
import LiaisonCore
import LiaisonStore
import NIOCore
import Testing

@testable import LiaisonServer

/// An in-memory ``SessionPolicy`` that allows everything unless told otherwise.
final class FakePolicy: SessionPolicy {
    var rules: [String: Permissions] = [:]
    var verdict: AuthThrottle.Verdict = .proceed
    var publishAllowed = true
    var claimedDurables: Set<String> = []
    var connections = 1
    /// When set, `AUTH` verdicts and outcomes go to this real throttle instead of ``verdict``.
    var throttle: AuthThrottle?

    func permissions(_ account: String) -> Permissions? {
        self.rules[account]
            ?? Permissions(
                rules: [
                    AccessRule(action: .publish, effect: .allow, pattern: try! TopicPattern(">")),
                    AccessRule(action: .subscribe, effect: .allow, pattern: try! TopicPattern(">")),
                ],
                clearance: .strictlyConfidential
            )
    }
    func remember(_ account: String, _ permissions: Permissions) {}
    func authVerdict(address: String, account: String, now: Int64) -> AuthThrottle.Verdict {
        self.throttle?.verdict(address: address, account: account, now: now) ?? self.verdict
    }
    func authSucceeded(address: String, account: String) {
        self.throttle?.succeeded(address: address, account: account)
    }
    func authFailed(address: String, account: String, now: Int64) {
        self.throttle?.failed(address: address, account: account, now: now)
    }
    func takePublishToken(_ account: String, now: Int64) -> Bool { self.publishAllowed }
    func claimDurable(account: String, name: String) -> Bool { self.claimedDurables.insert(name).inserted }
    func claimAccount(_ account: String, limit: Int) -> Bool { true }
    var connectionCount: Int { self.connections }
}

/// Drives a ``SessionStateMachine`` and collects what it writes.
struct MachineHarness {
    var machine: SessionStateMachine
    let policy = FakePolicy()
    var now: Int64 = 1_000
    private static let ids = IDGenerator()

    init(limits: ServerConfiguration.Limits = .init()) {
        var limits = limits
        limits.authTimeoutMilliseconds = 10_000
        self.machine = SessionStateMachine(
            configuration: .init(limits: limits, nodeName: "t", remoteHost: "127.0.0.1"),
            policy: self.policy,
            nextSubscriptionID: { Self.ids.next() }
        )
    }

    /// The lines and `MSG` frames (as `MSG <sid> <seq> [flags]`) in a list of actions.
    static func written(_ actions: [SessionAction]) -> [String] {
        actions.flatMap { action -> [String] in
            guard case .write(let frames) = action else { return [] }
            return frames.flatMap { frame -> [String] in
                switch frame {
                case .line(let line): return [line]
                case .lines(let lines): return lines
                case .message(let sid, let message):
                    let flags = message.headers.filter { $0.0.hasPrefix("liaison.") }.map { "\($0.0)=\($0.1)" }
                    return [(["MSG", sid, "\(message.seq)"] + flags).joined(separator: " ")]
                }
            }
        }
    }

    static func storeRequests(_ actions: [SessionAction]) -> [StoreRequest] {
        actions.compactMap {
            if case .store(let request) = $0 { return request }
            return nil
        }
    }

    static func publishTickets(_ actions: [SessionAction]) -> [UInt64] {
        actions.compactMap {
            if case .submitPublish(let ticket, _) = $0 { return ticket }
            return nil
        }
    }

    mutating func start() -> [SessionAction] { self.machine.channelActive(now: self.now) }

    /// Sends one protocol line (a command; `PUB` needs ``publish(_:_:)``).
    mutating func send(_ line: String) -> [SessionAction] {
        let frame: InboundFrame
        do {
            frame = .command(try ClientCommand.parse(Substring(line)))
        } catch {
            frame = .malformed(error)
        }
        return self.machine.frameReceived(frame, now: self.now) + self.machine.readComplete()
    }

    mutating func publish(_ topic: String, _ payload: String, headers: [(String, String)] = []) -> [SessionAction] {
        var request = PublishRequest(topic: try! Topic(topic), size: payload.utf8.count)
        for (key, value) in headers { try! request.headers.set(key, value) }
        return self.machine.frameReceived(.publish(request, payload: ByteBuffer(string: payload)), now: self.now)
            + self.machine.readComplete()
    }

    /// AUTH as `account`, answered at once by the store.
    mutating func authenticate(_ account: String = "office") {
        _ = self.start()
        _ = self.send("AUTH \(account) secret")
        _ = self.machine.storeAnswered(
            .authenticated(
                account: account,
                .success((Account(name: account, kind: .office), self.policy.permissions(account)!))
            ),
            now: self.now
        )
    }

    static func message(_ seq: Int64, _ topic: String = "field.mm.report", flash: Bool = false) -> Message {
        var headers = Headers()
        if flash { try! headers.set("prio", "flash") }
        return Message(
            seq: seq,
            topic: try! Topic(topic),
            account: "undp",
            publishedAt: Date(timeIntervalSince1970: 0),
            headers: headers,
            payload: Array("m\(seq)".utf8)
        )
    }

    /// Answers the durable `SUB` of `sid` as the store would: the consumer `name` of the
    /// authenticated account, at `ackFloor`, with `pending` delivery counts by seq.
    mutating func bind(
        sid: String = "1",
        name: String,
        settings: ConsumerSettings,
        ackFloor: Int64 = 0,
        deliveredSeq: Int64 = 0,
        pending: [Int64: Int] = [:]
    ) -> [SessionAction] {
        let info = ConsumerInfo(
            account: "office",
            name: name,
            settings: settings,
            ackFloor: ackFloor,
            deliveredSeq: deliveredSeq,
            createdAt: Date()
        )
        return self.machine.storeAnswered(
            .consumerOpened(sid: sid, .success(ConsumerBinding(info: info, pending: pending))),
            now: self.now
        )
    }

    /// An authenticated session with `SUB 1 field.> durable=feed ack=explicit max_deliver=3`,
    /// bound by the store at floor 4 with what earlier sessions left: the highest seq they
    /// delivered and the delivery counts of what they left unsettled.
    static func reboundExplicitFeed(deliveredSeq: Int64, pending: [Int64: Int]) -> (Self, [SessionAction]) {
        var h = Self()
        h.authenticate()
        _ = h.send("SUB 1 field.> durable=feed ack=explicit max_deliver=3")
        let bound = h.bind(
            name: "feed",
            settings: ConsumerSettings(pattern: try! TopicPattern("field.>"), ackMode: .explicit, maxDeliver: 3),
            ackFloor: 4,
            deliveredSeq: deliveredSeq,
            pending: pending
        )
        return (h, bound)
    }

    /// Answers the first page read that `actions` ask for with `messages`; `nil` (recorded as an
    /// issue) when they ask for none. Returns what the machine did and the subscription's id.
    mutating func answerPage(
        _ actions: [SessionAction],
        _ messages: [Message],
        sid: String = "1"
    ) -> (actions: [SessionAction], subscriptionID: UInt64)? {
        guard case .readPage(_, let id, let request)? = Self.storeRequests(actions).first else {
            Issue.record("no page read")
            return nil
        }
        let page = self.machine.storeAnswered(
            .page(sid: sid, subscriptionID: id, request: request, .success(LogPage(messages: messages, flash: []))),
            now: self.now
        )
        return (page, id)
    }

    /// Routes messages to subscription `sid` as the router would.
    mutating func route(_ messages: [Message], sid: String, writable: Bool = true) -> [SessionAction] {
        guard let id = self.machine.subscriptions[sid]?.subscriptionID else { return [] }
        return self.machine.deliver(
            messages.map { Delivery(sid: sid, subscriptionID: id, message: $0) },
            writable: writable,
            now: self.now
        )
    }
}

import Foundation
import LiaisonCore
import LiaisonStore
import Testing

@testable import LiaisonServer

/// Receipts in the session state machine: what it records for deliveries and acks, and how it
/// answers `RECEIPTS`, without sockets or a database.
@Suite struct ReceiptMachineTests {
    private typealias H = MachineHarness
    private static let ids = IDGenerator()

    private static func harness() -> H {
        var h = H()
        var limits = ServerConfiguration.Limits()
        limits.authTimeoutMilliseconds = 10_000
        h.machine = SessionStateMachine(
            configuration: .init(
                limits: limits,
                nodeName: "t",
                remoteHost: "127.0.0.1",
                receiptFlushMilliseconds: 1_000,
                connectionName: "c7/127.0.0.1:5000"
            ),
            policy: h.policy,
            nextSubscriptionID: { Self.ids.next() }
        )
        return h
    }

    private static func batches(_ actions: [SessionAction]) -> [ReceiptBatch] {
        actions.flatMap { action -> [ReceiptBatch] in
            if case .recordReceipts(let batches) = action { return batches }
            return []
        }
    }

    @Test func deliveriesBecomeOneRangePerFlushNotOneRowPerMessage() {
        var h = Self.harness()
        h.authenticate()
        _ = h.send("SUB s1 field.>")
        let routed = (1...50).flatMap { h.route([H.message($0)], sid: "s1") }
        #expect(routed.contains(.startTimer(.receipts, milliseconds: 1_000)))
        let flushed = Self.batches(h.machine.timerFired(.receipts, now: h.now + 1_000))
        #expect(flushed.count == 1)
        #expect(flushed.first?.identity.connection == "c7/127.0.0.1:5000")
        #expect(flushed.first?.identity.account == "office")
        #expect(flushed.first?.identity.pattern == "field.>")
        #expect(flushed.first?.spans.map { [$0.firstSeq, $0.lastSeq] } == [[1, 50]])
    }

    @Test func aDurableConsumersAckFloorIsRecordedAndItsLastRangesGoOutWhenItEnds() {
        var h = Self.harness()
        h.authenticate()
        _ = h.send("SUB 1 field.> durable=feed ack=explicit")
        let bound = h.bind(
            name: "feed",
            settings: ConsumerSettings(pattern: try! TopicPattern("field.>"), ackMode: .explicit),
            ackFloor: 4
        )
        guard h.answerPage(bound, (5...8).map { H.message($0) }) != nil else { return }
        _ = h.send("ACK 1 5")
        _ = h.send("ACK 1 6")
        _ = h.send("ACK 1 8")  // above the floor: 7 is still in flight
        let flushed = Self.batches(h.machine.timerFired(.receipts, now: h.now + 1_000))
        let spans = flushed.flatMap(\.spans)
        #expect(flushed.first?.identity.consumer == "feed")
        #expect(spans.filter { $0.kind == .inOrder }.map { [$0.firstSeq, $0.lastSeq] } == [[5, 8]])
        #expect(spans.filter { $0.kind == .floor }.map { [$0.firstSeq, $0.lastSeq] } == [[5, 6]])
        #expect(spans.filter { $0.kind == .explicitAck }.map { [$0.firstSeq, $0.lastSeq] } == [[8, 8]])
        _ = h.send("ACK 1 7")
        let ended = Self.batches(h.send("UNSUB 1")).flatMap(\.spans)
        #expect(ended.map { [$0.firstSeq, $0.lastSeq] } == [[7, 8]])
        #expect(ended.map(\.kind) == [.floor])
    }

    @Test func aMessageWithheldAfterARuleChangeIsNeverCoveredByARange() {
        var h = Self.harness()
        h.authenticate()
        _ = h.send("SUB s1 field.>")
        _ = h.route([H.message(1, "field.mm.a")], sid: "s1")
        // An admin denies field.mm.hr.> while the subscription is open: seq 2 is withheld.
        h.policy.rules["office"] = Permissions(
            rules: [
                AccessRule(action: .subscribe, effect: .allow, pattern: try! TopicPattern(">")),
                AccessRule(action: .subscribe, effect: .deny, pattern: try! TopicPattern("field.mm.hr.>")),
            ],
            clearance: .internal
        )
        let withheld = h.route([H.message(2, "field.mm.hr.x"), H.message(3, "field.mm.b")], sid: "s1")
        #expect(H.written(withheld) == ["MSG s1 3"])
        let spans = Self.batches(h.machine.timerFired(.receipts, now: h.now + 1_000)).flatMap(\.spans)
        #expect(spans.map { [$0.firstSeq, $0.lastSeq] } == [[1, 1], [3, 3]])
        #expect(spans.map(\.follows) == [false, false])
        #expect(spans.map(\.clearance) == [.strictlyConfidential, .internal])
    }

    @Test func aFlashMessageSentAheadOfABacklogIsItsOwnRange() {
        var h = Self.harness()
        h.authenticate()
        let subscribed = h.send("SUB s1 field.> from=all")
        // While the replay is read, a flash message commits: it goes out ahead of the backlog.
        #expect(H.written(h.route([H.message(5, flash: true)], sid: "s1")) == ["MSG s1 5 liaison.ahead=1"])
        guard let (page, _) = h.answerPage(subscribed, (1...5).map { H.message($0, flash: $0 == 5) }, sid: "s1") else {
            return
        }
        #expect(H.written(page) == ["MSG s1 1", "MSG s1 2", "MSG s1 3", "MSG s1 4"])
        _ = h.route([H.message(6)], sid: "s1")
        let spans = Self.batches(h.machine.timerFired(.receipts, now: h.now + 1_000)).flatMap(\.spans)
        // The in-order range extends over 5, which was delivered earlier (its own range).
        #expect(spans.map { "\($0.kind) \($0.firstSeq)-\($0.lastSeq)" } == ["ahead 5-5", "inOrder 1-6"])
    }

    @Test func receiptsOffRecordsNothing() {
        var h = H()
        h.authenticate()
        _ = h.send("SUB s1 field.>")
        let routed = h.route([H.message(1)], sid: "s1")
        #expect(!routed.contains(.startTimer(.receipts, milliseconds: 1_000)))
        #expect(Self.batches(h.send("UNSUB s1")).isEmpty)
    }

    private static func report(publisher: String) -> ReceiptReport {
        ReceiptReport(
            seq: 9,
            topic: "field.mm.report",
            publisher: publisher,
            publishedAt: Date(timeIntervalSince1970: 0),
            classification: "internal",
            priority: "flash",
            recipients: [
                AccountReceipt(
                    account: "ops",
                    entitled: true,
                    deliveredAt: Date(timeIntervalSince1970: 1),
                    ackedAt: nil,
                    status: "delivered",
                    via: ["durable:feed"]
                ),
                AccountReceipt(
                    account: "th",
                    entitled: true,
                    deliveredAt: nil,
                    ackedAt: nil,
                    status: "pending",
                    via: []
                ),
            ]
        )
    }

    private static func ask(_ h: inout H, answer: Result<ReceiptReport?, StoreError>) -> [String] {
        let asked = h.send("RECEIPTS 9")
        guard case .receipts(let ticket, let seq)? = H.storeRequests(asked).first else {
            Issue.record("RECEIPTS asked the store nothing")
            return []
        }
        #expect(seq == 9)
        return H.written(h.machine.storeAnswered(.receipts(ticket: ticket, seq: seq, answer), now: h.now))
    }

    @Test func thePublisherGetsOneLinePerRecipientThenOK() {
        var h = Self.harness()
        h.authenticate("office")
        #expect(
            Self.ask(&h, answer: .success(Self.report(publisher: "office"))) == [
                "RCPT ops delivered delivered=1970-01-01T00:00:01.000000Z acked=- entitled=yes via=durable:feed",
                "RCPT th pending delivered=- acked=- entitled=yes via=-",
                "OK RECEIPTS 9 n=2",
            ]
        )
    }

    @Test func anyoneElseGets403AndAnUnknownSeq404() {
        var h = Self.harness()
        h.authenticate("office")
        let refused = Self.ask(&h, answer: .success(Self.report(publisher: "undp")))
        #expect(refused == ["ERR 403 only the publisher of seq 9 or an admin may see its receipts"])
        #expect(Self.ask(&h, answer: .success(nil)) == ["ERR 404 no message with seq 9"])
        #expect(H.written(h.send("RECEIPTS x")).first?.hasPrefix("ERR 400") == true)
    }

    private static func receiptsReads(_ actions: [SessionAction]) -> [(OutboundQueue<OutboundFrame>.Ticket, Int64)] {
        H.storeRequests(actions).compactMap {
            if case .receipts(let ticket, let seq) = $0 { return (ticket, seq) }
            return nil
        }
    }

    @Test func pipelinedReceiptsAreReadOneAtATimeAndAnsweredInOrderWithReadingPaused() {
        var h = Self.harness()
        h.authenticate("office")
        var asked: [SessionAction] = []
        for seq in 1...40 { asked += h.send("RECEIPTS \(seq)") }
        asked += h.send("PING")
        // One store read in flight; the rest wait, and reading pauses once too many wait.
        var reads = Self.receiptsReads(asked)
        #expect(reads.map(\.1) == [1])
        #expect(asked.filter { $0 == .setReading(false) }.count == 1)
        #expect(H.written(asked).isEmpty, "nothing may overtake the first RECEIPTS reply")
        var written: [String] = []
        var order: [Int64] = []
        var resumed = false
        while let (ticket, seq) = reads.first {
            order.append(seq)
            let answered = h.machine.storeAnswered(.receipts(ticket: ticket, seq: seq, .success(nil)), now: h.now)
            written += H.written(answered)
            resumed = resumed || answered.contains(.setReading(true))
            reads = Self.receiptsReads(answered)
            #expect(reads.count <= 1)
        }
        #expect(order == Array(1...40))
        #expect(written == (1...40).map { "ERR 404 no message with seq \($0)" } + ["PONG"])
        #expect(resumed)
    }

    @Test func noFurtherReceiptsAreReadWhileTheClientReadsNoReplies() {
        var h = Self.harness()
        h.authenticate("office")
        guard let (ticket, seq) = Self.receiptsReads(h.send("RECEIPTS 1") + h.send("RECEIPTS 2")).first else {
            Issue.record("RECEIPTS asked the store nothing")
            return
        }
        _ = h.machine.writabilityChanged(false, now: h.now)
        h.machine.observe(writable: false)
        let answered = h.machine.storeAnswered(.receipts(ticket: ticket, seq: seq, .success(nil)), now: h.now)
        #expect(H.written(answered) == ["ERR 404 no message with seq 1"])
        #expect(Self.receiptsReads(answered).isEmpty, "the socket is above its high-water mark")
        #expect(Self.receiptsReads(h.machine.writabilityChanged(true, now: h.now)).map(\.1) == [2])
    }

    @Test func theAdminViewFollowsTheCurrentRoleAndADisabledAccountSeesNothing() {
        var h = Self.harness()
        h.policy.rules["netadmin"] = .everything
        h.authenticate("netadmin")
        let others = Self.report(publisher: "undp")
        #expect(Self.ask(&h, answer: .success(others)).last == "OK RECEIPTS 9 n=2")
        // An import demotes netadmin to member (its rules stay): the access poll reloads the role.
        h.policy.rules["netadmin"] = Permissions(
            rules: Permissions.everything.rules,
            clearance: .strictlyConfidential,
            role: .member
        )
        let refusal = "ERR 403 only the publisher of seq 9 or an admin may see its receipts"
        #expect(Self.ask(&h, answer: .success(others)) == [refusal])
        // Asked as admin, disabled before the store answered: the answer is refused.
        h.policy.rules["netadmin"] = .everything
        let asked = Self.receiptsReads(h.send("RECEIPTS 9"))
        h.policy.rules["netadmin"] = .disabled
        guard let (ticket, seq) = asked.first else {
            Issue.record("RECEIPTS asked the store nothing")
            return
        }
        let late = h.machine.storeAnswered(.receipts(ticket: ticket, seq: seq, .success(others)), now: h.now)
        #expect(H.written(late) == ["ERR 403 account netadmin is disabled"])
        // Disabled: refused at once without a read, even for its own messages.
        let now = h.send("RECEIPTS 9")
        #expect(Self.receiptsReads(now).isEmpty)
        #expect(H.written(now) == ["ERR 403 account netadmin is disabled"])
    }

    @Test func aDisabledPublisherNoLongerSeesItsOwnMessagesReceipts() {
        var h = Self.harness()
        h.authenticate("office")
        #expect(Self.ask(&h, answer: .success(Self.report(publisher: "office"))).last == "OK RECEIPTS 9 n=2")
        h.policy.rules["office"] = .disabled
        #expect(H.written(h.send("RECEIPTS 9")) == ["ERR 403 account office is disabled"])
    }
}

import Foundation
import LiaisonCore
import LiaisonStore
import Testing

@testable import LiaisonServer

/// The session's protocol, driven without sockets or a database: events in, actions out.
@Suite struct SessionStateMachineTests {
    typealias H = MachineHarness

    @Test func commandsPipelinedBehindAPendingAuthWaitAndRunInOrder() {
        var h = H()
        #expect(H.written(h.start()).first?.hasPrefix("LIAISON 1 node=t") == true)
        let auth = h.send("AUTH office secret")
        #expect(H.storeRequests(auth) == [.authenticate(account: "office", token: "secret")])
        #expect(h.machine.phase == .authenticating)
        #expect(H.written(h.send("PING")).isEmpty)
        #expect(H.publishTickets(h.publish("field.mm.report", "hello")).isEmpty)
        let answered = h.machine.storeAnswered(
            .authenticated(
                account: "office",
                .success((Account(name: "office", kind: .office), h.policy.permissions("office")!))
            ),
            now: h.now
        )
        #expect(H.written(answered) == ["OK AUTH office", "PONG"])
        #expect(H.publishTickets(answered).count == 1)
        #expect(h.machine.phase == .authenticated)
    }

    @Test func aLongPipelineBehindAuthPausesReadingAndResumesAfter() {
        var h = H()
        _ = h.start()
        _ = h.send("AUTH office secret")
        var paused = false
        for _ in 0..<SessionStateMachine.maxDeferred {
            paused = paused || h.send("PING").contains(.setReading(false))
        }
        #expect(paused)
        let answered = h.machine.storeAnswered(.authenticated(account: "office", .success(nil)), now: h.now)
        #expect(answered.contains(.setReading(true)))
        #expect(H.written(answered).first == "ERR 401 invalid account or token")
        #expect(H.written(answered).filter { $0 == "PONG" }.count == SessionStateMachine.maxDeferred)
    }

    @Test func invalidTransitionsAreAnsweredNotObeyed() {
        var h = H()
        _ = h.start()
        #expect(H.written(h.send("SUB 1 field.>")) == ["ERR 401 authenticate first: AUTH <account> <token>"])
        #expect(H.written(h.publish("field.mm.x", "p")) == ["ERR 401 authenticate first: AUTH <account> <token>"])
        #expect(H.written(h.send("ACK 1 5")) == ["ERR 401 authenticate first: AUTH <account> <token>"])
        h.authenticate()
        #expect(H.written(h.send("AUTH other secret")) == ["ERR 409 already authenticated as office"])
        #expect(H.written(h.send("ACK nope 5")) == ["ERR 404 no subscription nope"])
        #expect(H.written(h.send("UNSUB nope")) == ["ERR 404 no subscription nope"])
        // A publish answer nobody waits for, a store answer for a gone subscription: nothing.
        #expect(H.written(h.machine.published(999, .success(.init(seq: 1, duplicate: false)))).isEmpty)
        let stale = h.machine.storeAnswered(
            .page(
                sid: "gone",
                subscriptionID: 42,
                request: PageRequest(
                    after: 0,
                    startTime: nil,
                    pattern: try! TopicPattern(">"),
                    clearance: .public,
                    limit: 1
                ),
                .success(LogPage(messages: [H.message(1)], flash: []))
            ),
            now: h.now
        )
        #expect(H.written(stale).isEmpty)
        let quit = h.send("QUIT")
        #expect(H.written(quit) == ["OK BYE"])
        #expect(quit.contains(.close))
        #expect(H.written(h.send("PING")).isEmpty)
        #expect(h.machine.channelInactive().contains(.cancelTimer(.ackTick)))
        #expect(h.machine.channelInactive().isEmpty)
    }

    @Test func halfCloseAnswersEverythingReceivedThenCloses() {
        var h = H()
        _ = h.start()
        _ = h.send("AUTH office secret")
        _ = h.send("PING")
        let closed = h.machine.inputClosed()
        #expect(!closed.contains(.close))
        let answered = h.machine.storeAnswered(
            .authenticated(
                account: "office",
                .success((Account(name: "office", kind: .office), h.policy.permissions("office")!))
            ),
            now: h.now
        )
        #expect(H.written(answered) == ["OK AUTH office", "PONG"])
        #expect(answered.contains(.close))
    }

    @Test func drainAnswersPendingPublishesBeforeClosing() {
        var h = H()
        h.authenticate()
        let ticket = H.publishTickets(h.publish("field.mm.report", "x"))[0]
        let drained = h.machine.drain()
        #expect(!drained.contains(.close))
        #expect(H.written(h.send("PING")) == [])
        let answered = h.machine.published(ticket, .success(.init(seq: 7, duplicate: false)))
        // The PING read during the drain is answered, after the reply it queued behind.
        #expect(H.written(answered) == ["OK PUB 7", "ERR 503 server shutting down, not processed"])
        #expect(answered.contains(.close))
    }

    /// The answers of one batch are written as they come and flushed once, at the end.
    @Test func answersOfOneBatchAreFlushedOnceAtTheEnd() {
        var h = H()
        h.authenticate()
        let tickets = H.publishTickets(h.publish("field.mm.report", "a") + h.publish("field.mm.report", "b"))
        #expect(tickets.count == 2)
        let first = h.machine.published(tickets[0], .success(.init(seq: 1, duplicate: false)), flush: false)
        let second = h.machine.published(tickets[1], .success(.init(seq: 2, duplicate: false)), flush: false)
        #expect(H.written(first) == ["OK PUB 1"])
        #expect(H.written(second) == ["OK PUB 2"])
        #expect(!first.contains(.flush) && !second.contains(.flush))
        #expect(h.machine.finish().contains(.flush))
        // Nothing left to flush.
        #expect(!h.machine.finish().contains(.flush))
    }

    @Test func aPublishWithoutCommitIsAnswered503AtItsDeadlineAndTheLateAnswerDropped() {
        var h = H()
        h.authenticate()
        let ticket = H.publishTickets(h.publish("field.mm.report", "x"))[0]
        h.now += 5_001
        let expired = h.machine.timerFired(.ackTick, now: h.now)
        #expect(H.written(expired) == ["ERR 503 storage did not confirm in time, outcome unknown: retry with id="])
        #expect(H.written(h.machine.published(ticket, .success(.init(seq: 9, duplicate: false)))).isEmpty)
    }

    @Test func durableSubBlocksLaterFramesUntilBound() {
        var h = H()
        h.authenticate()
        let sub = h.send("SUB 1 field.> durable=office-feed")
        guard case .openConsumer(let sid, let opening)? = H.storeRequests(sub).first else {
            Issue.record("no consumer opened")
            return
        }
        #expect(sid == "1" && opening.name == "office-feed")
        #expect(H.written(h.send("PING")).isEmpty)
        let info = ConsumerInfo(
            account: "office",
            name: "office-feed",
            settings: opening.settings,
            ackFloor: 3,
            deliveredSeq: 3,
            createdAt: Date()
        )
        let bound = h.machine.storeAnswered(
            .consumerOpened(sid: "1", .success(ConsumerBinding(info: info, pending: [:]))),
            now: h.now
        )
        #expect(H.written(bound) == ["OK SUB 1", "PONG"])
        #expect(bound.contains { if case .route(sid: "1", _, _) = $0 { true } else { false } })
        guard case .readPage(_, _, let page)? = H.storeRequests(bound).first else {
            Issue.record("no replay after the floor")
            return
        }
        #expect(page.after == 3)
    }

    @Test func catchUpThenRejoinTheLiveStreamWithoutGapOrDuplicate() {
        var h = H()
        h.authenticate()
        let sub = h.send("SUB 1 field.> from=all")
        #expect(H.written(sub) == ["OK SUB 1"])
        guard case .readPage(_, let id, let request)? = H.storeRequests(sub).first else {
            Issue.record("no page read")
            return
        }
        // Messages committed while the page is read are held, not written out of order.
        #expect(H.written(h.route([H.message(3), H.message(4)], sid: "1")).isEmpty)
        let page = h.machine.storeAnswered(
            .page(
                sid: "1",
                subscriptionID: id,
                request: request,
                .success(LogPage(messages: [H.message(1), H.message(2), H.message(3)], flash: []))
            ),
            now: h.now
        )
        #expect(H.written(page) == ["MSG 1 1", "MSG 1 2", "MSG 1 3", "MSG 1 4"])
        #expect(h.machine.subscriptions["1"]?.state.isLive == true)
        #expect(H.written(h.route([H.message(4), H.message(5)], sid: "1")) == ["MSG 1 5"])
    }

    @Test func aReplayPageSendsItsFlashMessagesFirst() {
        var h = H()
        h.authenticate()
        let sub = h.send("SUB 1 field.> from=all")
        let messages = [H.message(1), H.message(2), H.message(3, flash: true), H.message(4)]
        guard let (page, _) = h.answerPage(sub, messages) else { return }
        // The flash one goes ahead of the routine ones before it and is not sent again in order.
        #expect(H.written(page) == ["MSG 1 3 liaison.ahead=1", "MSG 1 1", "MSG 1 2", "MSG 1 4"])
    }

    @Test func eachReplayPageLooksForFlashPastWhatAlreadyWentAhead() {
        var h = H()
        h.authenticate()
        let sub = h.send("SUB 1 field.> from=all")
        guard case .readPage(_, let id, let request)? = H.storeRequests(sub).first else {
            Issue.record("no page read")
            return
        }
        #expect(request.flashAfter == 0)
        let n = Int64(request.limit)
        let further = [H.message(n + 10, flash: true), H.message(n + 20, flash: true)]
        let first = h.machine.storeAnswered(
            .page(
                sid: "1",
                subscriptionID: id,
                request: request,
                .success(LogPage(messages: (1...n).map { H.message($0) }, flash: further))
            ),
            now: h.now
        )
        #expect(H.written(first).prefix(2) == ["MSG 1 \(n + 10) liaison.ahead=1", "MSG 1 \(n + 20) liaison.ahead=1"])
        // The next page's look-ahead starts past them, so a long backlog's later flash messages are
        // found a page later, not only once the in-order stream reaches them.
        guard case .readPage(_, _, let next)? = H.storeRequests(first).first else {
            Issue.record("no next page read")
            return
        }
        #expect(next.after == n)
        #expect(next.flashAfter == n + 20)
    }

    @Test func aReplayReadsASmallFirstPageThenFullOnes() {
        var h = H()
        h.authenticate()
        let sub = h.send("SUB 1 field.> from=500")
        guard case .readPage(_, let id, let request)? = H.storeRequests(sub).first else {
            Issue.record("no page read")
            return
        }
        // A seek's first message waits for a short page, not for a whole replayPageSize one.
        #expect(request.after == 499)
        #expect(request.limit == 32)
        let full = h.machine.storeAnswered(
            .page(
                sid: "1",
                subscriptionID: id,
                request: request,
                .success(LogPage(messages: (500..<532).map { H.message($0) }, flash: []))
            ),
            now: h.now
        )
        #expect(H.written(full).count == 32)
        // A full short page is not the end of the log: the next read asks for a whole page.
        guard case .readPage(_, _, let next)? = H.storeRequests(full).first else {
            Issue.record("no next page read")
            return
        }
        #expect(next.after == 531)
        #expect(next.limit == 256)
        #expect(h.machine.subscriptions["1"]?.state.isLive == false)
    }

    @Test func flashGoesAheadOfAFullInflightWindow() {
        var h = H()
        h.authenticate()
        _ = h.send("SUB 1 field.> ack=explicit max_inflight=1")
        #expect(H.written(h.route([H.message(1)], sid: "1")) == ["MSG 1 1"])
        // The window is full: a routine message waits (catch-up), a flash one goes ahead.
        #expect(H.written(h.route([H.message(2)], sid: "1")).isEmpty)
        #expect(H.written(h.route([H.message(3, flash: true)], sid: "1")) == ["MSG 1 3 liaison.ahead=1"])
        // ACKs make room: the catch-up reads from after 1, and 3 is not sent twice.
        #expect(H.written(h.send("ACK 1 1")) == ["OK ACK 1"])
        let ack = h.send("ACK 1 3")
        #expect(H.written(ack) == ["OK ACK 3"])
        guard case .readPage(_, let id, let request)? = H.storeRequests(ack).first else {
            Issue.record("no catch-up read")
            return
        }
        #expect(request.after == 1)
        let page = h.machine.storeAnswered(
            .page(
                sid: "1",
                subscriptionID: id,
                request: request,
                .success(LogPage(messages: [H.message(2), H.message(3, flash: true)], flash: []))
            ),
            now: h.now
        )
        #expect(H.written(page) == ["MSG 1 2"])
    }

    @Test func aDurableAutoConsumerMovesOnlyOnWhatTheClientConfirmed() {
        var h = H()
        h.authenticate()
        _ = h.send("SUB 1 field.> durable=feed ack=auto")
        let bound = h.bind(
            name: "feed",
            settings: ConsumerSettings(pattern: try! TopicPattern("field.>"), ackMode: .auto)
        )
        guard let (page, _) = h.answerPage(bound, (1...3).map { H.message($0) }) else { return }
        #expect(H.written(page).count == 3)
        // Written to the socket is not received: the floor stays until the client confirms.
        let tick = h.machine.timerFired(.ackTick, now: h.now + 100)
        guard case .recordProgress(let progress)? = H.storeRequests(tick).first else {
            Issue.record("no progress recorded")
            return
        }
        #expect(progress.first?.ackFloor == 0)
        _ = h.machine.storeAnswered(.progressRecorded(.success(())), now: h.now)
        _ = h.send("ACK 1 2")
        let confirmed = h.machine.timerFired(.ackTick, now: h.now + 200)
        guard case .recordProgress(let after)? = H.storeRequests(confirmed).first else {
            Issue.record("confirmation not recorded")
            return
        }
        #expect(after.first?.ackFloor == 2)
        // A confirm past what this connection delivered in order is capped, and the reply says so.
        #expect(H.written(h.send("ACK 1 10")) == ["OK ACK 3"])
        // Closing records the last progress before the durable name is freed.
        let closed = h.machine.channelInactive()
        #expect(
            closed.contains {
                if case .store(.releaseConsumer(_, account: "office", name: "feed")) = $0 { true } else { false }
            }
        )
    }

    @Test func aReboundExplicitConsumerKeepsDeliveryCountsAndDeadLettersInOneMove() {
        // Earlier sessions: 5 was delivered three times (the poison), 6 twice, 7 was acknowledged.
        var (h, bound) = H.reboundExplicitFeed(deliveredSeq: 7, pending: [5: 3, 6: 2])
        guard let (page, id) = h.answerPage(bound, (5...8).map { H.message($0) }) else { return }
        #expect(H.written(page) == ["MSG 1 6 liaison.delivery=3", "MSG 1 8"])
        let tick = h.machine.timerFired(.ackTick, now: h.now + 100)
        guard
            let move = H.storeRequests(tick).compactMap({ r -> DeadLetterMove? in
                if case .deadLetter(_, _, let move) = r { return move }
                return nil
            }).first
        else {
            Issue.record("the exhausted message was not dead-lettered")
            return
        }
        #expect(move.letters.map(\.seq) == [5])
        // Its move carries the floor as it will be once 5 is settled (6 is still in flight).
        #expect(move.ackFloor == 5)
        // Until the store confirmed, the floor holds at 4.
        #expect(h.machine.subscriptions["1"]?.ackFloor == 4)
        _ = h.machine.storeAnswered(.deadLettered(sid: "1", subscriptionID: id, move: move, .success(())), now: h.now)
        #expect(h.machine.subscriptions["1"]?.ackFloor == 5)
    }

    @Test func aConnectionPastTheDaemonLimitIsRefusedAndClosed() {
        var h = H()
        h.policy.connections = 10_001
        let actions = h.start()
        #expect(H.written(actions) == ["ERR 429 too many connections"])
        #expect(actions.contains(.close))
    }
}

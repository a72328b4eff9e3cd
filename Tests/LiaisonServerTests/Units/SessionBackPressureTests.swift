import LiaisonCore
import LiaisonStore
import Testing

@testable import LiaisonServer

/// Output paused by the session's own burst budget (more than the high-water mark released in
/// one event) while the socket still reports writable. The socket may then never cross its own
/// mark, so no writability change comes: a subscription that paused must still resume.
@Suite struct SessionBackPressureTests {
    typealias H = MachineHarness

    private static func harness() -> H {
        var limits = ServerConfiguration.Limits()
        // Each test message counts as 128 bytes plus its payload: two messages pass the mark.
        limits.highWaterMark = 200
        return H(limits: limits)
    }

    /// Reported: a follower on an unthrottled link stopped after 1 018 of 3 000 messages of 4 KB
    /// (4 MiB, the default mark, in one committed batch), and never got another.
    @Test func aLiveSubscriptionPausedByTheBurstBudgetResumesOnceTheSocketIsStillWritable() {
        var h = Self.harness()
        h.authenticate()
        #expect(H.written(h.send("SUB 1 field.>")) == ["OK SUB 1"])
        h.machine.observe(writable: true)
        let burst = h.route((1...5).map { H.message($0) }, sid: "1")
        #expect(H.written(burst) == ["MSG 1 1", "MSG 1 2"])
        #expect(h.machine.subscriptions["1"]?.state.isLive == false)
        #expect(burst.contains(.recheckWritability))

        // The handler's next task: the socket took everything and stays writable.
        h.machine.observe(writable: true)
        let recheck = h.machine.writabilityRechecked(now: h.now)
        guard case .readPage(_, _, let request)? = H.storeRequests(recheck).first else {
            Issue.record("the paused subscription never read the log again")
            return
        }
        #expect(request.after == 2)
        guard let page = h.answerPage(recheck, (3...5).map { H.message($0) }) else { return }
        #expect(H.written(page.actions) == ["MSG 1 3", "MSG 1 4", "MSG 1 5"])
        #expect(h.machine.subscriptions["1"]?.state.isLive == true)
    }

    @Test func aRecheckThatFindsTheSocketFullWaitsForItsWritabilityChange() {
        var h = Self.harness()
        h.authenticate()
        _ = h.send("SUB 1 field.>")
        h.machine.observe(writable: true)
        #expect(h.route((1...5).map { H.message($0) }, sid: "1").contains(.recheckWritability))

        h.machine.observe(writable: false)
        #expect(H.storeRequests(h.machine.writabilityRechecked(now: h.now)).isEmpty)
        guard case .readPage(_, _, let request)? = H.storeRequests(h.machine.writabilityChanged(true, now: h.now)).first
        else {
            Issue.record("no page read once the socket drained")
            return
        }
        #expect(request.after == 2)
    }

    @Test func oneRecheckIsOutAtATimeAndNoneWhileTheSocketIsUnwritable() {
        var h = Self.harness()
        h.authenticate()
        _ = h.send("SUB 1 field.>")
        h.machine.observe(writable: true)
        #expect(h.route([H.message(1), H.message(2)], sid: "1").contains(.recheckWritability))
        // Still over the budget in the same task, before the recheck ran: no second one.
        #expect(!h.route([H.message(3)], sid: "1").contains(.recheckWritability))

        var unwritable = Self.harness()
        unwritable.authenticate()
        _ = unwritable.send("SUB 1 field.>")
        let actions = unwritable.route([H.message(1), H.message(2), H.message(3)], sid: "1", writable: false)
        #expect(!actions.contains(.recheckWritability))
    }
}

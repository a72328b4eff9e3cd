import Testing

@testable import LiaisonServer

@Suite struct AuthThrottleTests {
    private let policy = AuthThrottle.Policy(
        freeFailures: 3,
        baseDelayMilliseconds: 100,
        lockoutFailures: 10,
        lockoutMilliseconds: 60_000
    )

    @Test func failuresAreSlowedThenRefusedUntilTheLockoutEnds() {
        let throttle = AuthThrottle(policy: self.policy)
        var verdicts: [AuthThrottle.Verdict] = []
        for i in 0..<12 {
            let verdict = throttle.verdict(address: "10.0.0.1", account: "acct\(i)", now: Int64(i))
            verdicts.append(verdict)
            if case .refuse = verdict { continue }
            throttle.failed(address: "10.0.0.1", account: "acct\(i)", now: Int64(i))
        }
        #expect(verdicts.prefix(3).allSatisfy { $0 == .proceed })
        #expect(verdicts[3] == .delay(100))
        #expect(verdicts[9] == .delay(100 << 6))
        #expect(verdicts[10...].allSatisfy { if case .refuse = $0 { true } else { false } })
        #expect(throttle.verdict(address: "10.0.0.1", account: "x", now: 70_000) == .proceed)
    }

    @Test func aValidLoginClearsItsAccountButNotTheGuessesFromItsAddress() {
        let throttle = AuthThrottle(policy: self.policy)
        for i in 0..<9 { throttle.failed(address: "10.0.0.2", account: "victim\(i)", now: 0) }
        // The insider's own valid login clears its account's record only.
        throttle.succeeded(address: "10.0.0.2", account: "insider")
        #expect(throttle.verdict(address: "10.0.0.3", account: "insider", now: 1) == .proceed)
        throttle.failed(address: "10.0.0.2", account: "victim9", now: 1)
        if case .refuse = throttle.verdict(address: "10.0.0.2", account: "anyone", now: 2) {
        } else {
            Issue.record("ten failures from one address were not locked out")
        }
        // The lockout ends after its time.
        #expect(throttle.verdict(address: "10.0.0.2", account: "anyone", now: 70_000) == .proceed)
    }
}

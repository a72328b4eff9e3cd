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

    /// The defaults, with the daemon's default auth timeout (10 s) as the longest delay.
    static let daemonDefaults = AuthThrottle.Policy(longestDelayMilliseconds: 10_000)

    @Test func aDelayTheAuthTimeoutWouldCutShortIsRefusedAtOnceUntilTheRecordIsForgotten() {
        let throttle = AuthThrottle(policy: Self.daemonDefaults)
        // Nine wrong AUTHs from one address, one every 0.5 s, the last at 4 000 ms.
        for i in 0..<9 {
            let now = Int64(i) * 500
            if case .refuse = throttle.verdict(address: "127.0.0.1", account: "ohchr", now: now) {
                Issue.record("attempt \(i + 1) was refused")
            }
            throttle.failed(address: "127.0.0.1", account: "ohchr", now: now)
        }
        // The 9th waited 250 ms << 5 = 8 s: still inside the 10 s auth timeout.
        #expect(throttle.verdict(address: "127.0.0.2", account: "iom", now: 0) == .proceed)
        // The next would wait 16 s, past the auth timeout: refused now, for the rest of the
        // lockout time, whichever account from that address and that account from anywhere.
        let lockout = Self.daemonDefaults.lockoutMilliseconds
        let refused = AuthThrottle.Verdict.refuse(retryAfterMilliseconds: 4_000 + lockout - 4_500)
        #expect(throttle.verdict(address: "127.0.0.1", account: "ohchr", now: 4_500) == refused)
        #expect(throttle.verdict(address: "127.0.0.1", account: "iom", now: 4_500) == refused)
        #expect(throttle.verdict(address: "10.9.9.9", account: "ohchr", now: 4_500) == refused)
        #expect(throttle.verdict(address: "127.0.0.1", account: "iom", now: 4_000 + lockout) == .proceed)
    }

    @Test func withoutAnAuthTimeoutLongDelaysAreWaitedOut() {
        let throttle = AuthThrottle(policy: AuthThrottle.Policy())
        for i in 0..<9 { throttle.failed(address: "127.0.0.1", account: "ohchr", now: Int64(i)) }
        #expect(throttle.verdict(address: "127.0.0.1", account: "ohchr", now: 9) == .delay(250 << 6))
    }
}

import Foundation
import LiaisonCore
import LiaisonStore
import Testing

@testable import LiaisonServer

/// The session's `AUTH` path with the real throttle, without sockets or a database: a throttle
/// delay the auth timeout would cut short is answered `ERR 429` at once and recorded as
/// `auth.throttled`, never left to the auth timer's misleading `ERR 401 no AUTH within …`.
@Suite struct AuthThrottleSessionTests {
    typealias H = MachineHarness

    /// One connection's `AUTH` with a wrong token from 127.0.0.1 at `now`, the throttle's delay
    /// (if any) waited out; returns what it was answered.
    private static func failedAuth(_ throttle: AuthThrottle, account: String, now: Int64) -> [String] {
        var h = H()
        h.policy.throttle = throttle
        h.now = now
        _ = h.start()
        var actions = h.send("AUTH \(account) lia_wrong")
        for case .startTimer(.authDelay, let milliseconds) in actions {
            h.now += milliseconds
            actions = h.machine.timerFired(.authDelay, now: h.now)
        }
        guard !H.storeRequests(actions).isEmpty else { return H.written(actions) }
        return H.written(h.machine.storeAnswered(.authenticated(account: account, .success(nil)), now: h.now))
    }

    @Test func anAuthWhoseThrottleDelayWouldOutlastTheAuthTimeoutIsRefusedWith429AtOnce() {
        // The daemon's defaults: 3 free failures, 250 ms doubling, 10 s auth timeout.
        let throttle = AuthThrottle(policy: .init(longestDelayMilliseconds: 10_000))
        for attempt in 0..<9 {
            let replies = Self.failedAuth(throttle, account: "ohchr", now: 1_000 + Int64(attempt) * 500)
            #expect(replies.last == "ERR 401 invalid account or token", "attempt \(attempt + 1): \(replies)")
        }
        // The next delay would be 16 s: a fresh connection's AUTH, even for another account with a
        // valid token, is refused at once, and the refusal is a security event.
        var h = H()
        h.policy.throttle = throttle
        h.now = 6_000
        _ = h.start()
        let actions = h.send("AUTH iom secret")
        let written = H.written(actions)
        #expect(written.count == 1 && written[0].hasPrefix("ERR 429 too many failed attempts: retry in "), "\(written)")
        #expect(actions.contains(.securityEvent(.authThrottled, account: "iom", reason: "too many failed attempts")))
        #expect(H.storeRequests(actions).isEmpty)
        #expect(!actions.contains { if case .startTimer(.authDelay, _) = $0 { true } else { false } })
        #expect(h.machine.phase != .authenticating)
    }
}

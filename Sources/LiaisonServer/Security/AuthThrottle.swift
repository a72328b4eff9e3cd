import NIOConcurrencyHelpers

/// Slows down and then refuses repeated failed `AUTH`s, per remote address and per account.
///
/// After `freeFailures` failures within the window, each further attempt must wait a delay that
/// doubles per failure (from `baseDelayMilliseconds`), and past `lockoutFailures` the key is
/// refused outright (`ERR 429`) until `lockoutMilliseconds` have passed since the last failure.
/// A delay of `longestDelayMilliseconds` or more (the auth timeout: the client cannot wait that
/// long before its connection is closed) is refused at once the same way: the delay only grows
/// until the record is forgotten, so no attempt before then could be checked in time.
/// A success clears the account's and the address's record. Times are monotonic milliseconds.
final class AuthThrottle: Sendable {
    struct Policy: Sendable {
        var freeFailures = 3
        var baseDelayMilliseconds: Int64 = 250
        var lockoutFailures = 10
        var lockoutMilliseconds: Int64 = 15 * 60 * 1000
        /// Delays from this many milliseconds on are refused instead (`limits.authTimeoutMs`;
        /// `.max`: never).
        var longestDelayMilliseconds: Int64 = .max
    }

    /// What to do with an `AUTH` attempt.
    enum Verdict: Equatable {
        /// Check the credentials now.
        case proceed
        /// Check them after this many milliseconds (the answer is delayed, not refused).
        case delay(Int64)
        /// Refuse with `ERR 429` without checking.
        case refuse(retryAfterMilliseconds: Int64)
    }

    private struct Record {
        var failures: Int
        var lastFailure: Int64
    }

    // Safe to share: guarded by the lock; a configuration reload replaces it.
    private let currentPolicy: NIOLockedValueBox<Policy>
    /// The delays and lockouts in force.
    var policy: Policy { self.currentPolicy.withLockedValue { $0 } }
    // Safe to share: the records are guarded by the lock.
    private let records = NIOLockedValueBox<[String: Record]>([:])

    init(policy: Policy = Policy()) {
        self.currentPolicy = NIOLockedValueBox(policy)
    }

    /// Replaces the policy (a configuration reload); the failures recorded so far stay.
    func update(policy: Policy) {
        self.currentPolicy.withLockedValue { $0 = policy }
    }

    private static func keys(address: String, account: String) -> [String] {
        ["addr:" + address, "acct:" + account]
    }

    /// Decides how to treat an attempt from `address` for `account` at `now`.
    func verdict(address: String, account: String, now: Int64) -> Verdict {
        let policy = self.policy
        return self.records.withLockedValue { records in
            var worst = Verdict.proceed
            for key in Self.keys(address: address, account: account) {
                guard let record = records[key] else { continue }
                if now - record.lastFailure >= policy.lockoutMilliseconds {
                    records[key] = nil
                    continue
                }
                let lockoutEnds = record.lastFailure + policy.lockoutMilliseconds - now
                if record.failures >= policy.lockoutFailures {
                    return .refuse(retryAfterMilliseconds: lockoutEnds)
                }
                if record.failures >= policy.freeFailures {
                    let doublings = min(record.failures - policy.freeFailures, 12)
                    let delay = policy.baseDelayMilliseconds << doublings
                    // The auth timeout would fire first and answer `ERR 401 no AUTH within …`.
                    if delay >= policy.longestDelayMilliseconds {
                        return .refuse(retryAfterMilliseconds: lockoutEnds)
                    }
                    if case .delay(let current) = worst, current >= delay { continue }
                    worst = .delay(delay)
                }
            }
            return worst
        }
    }

    /// Records a failed attempt.
    func failed(address: String, account: String, now: Int64) {
        self.records.withLockedValue { records in
            for key in Self.keys(address: address, account: account) {
                let previous = records[key]?.failures ?? 0
                records[key] = Record(failures: previous + 1, lastFailure: now)
            }
            // Keep the table bounded under a flood of distinct keys: forget the stalest half.
            if records.count > 100_000 {
                let cutoff = records.values.map(\.lastFailure).sorted()[records.count / 2]
                records = records.filter { $0.value.lastFailure > cutoff }
            }
        }
    }

    /// Clears the account's record after a successful attempt. The address's record stays: one
    /// valid login must not wipe the count of guesses made from the same address for other
    /// accounts. (Failures are counted when known, so guesses sent in parallel all get their
    /// verdict before any is counted: at most a burst's worth of extra guesses against 256-bit
    /// tokens. Counting attempts when they start would instead lock out an office whose many
    /// clients log in at once after an outage.)
    func succeeded(address: String, account: String) {
        self.records.withLockedValue { records in records["acct:" + account] = nil }
    }
}

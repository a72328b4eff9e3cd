import NIOConcurrencyHelpers

/// A token bucket per key (an account's publishes): `ratePerSecond` tokens refill continuously up
/// to `burst`; each publish takes one. Shared by every connection of the account.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Int64
    }

    // Safe to share: the rate, the size and the buckets are guarded by the lock.
    private let state: NIOLockedValueBox<(ratePerSecond: Double, burst: Double, buckets: [String: Bucket])>

    /// - Parameters:
    ///   - ratePerSecond: Sustained rate; 0 disables limiting.
    ///   - burst: Bucket size (at least 1).
    init(ratePerSecond: Double, burst: Double) {
        self.state = NIOLockedValueBox((ratePerSecond, max(1, burst), [:]))
    }

    /// Changes the rate and the size for every key (a configuration reload); a bucket keeps its
    /// tokens, down to the new size.
    func update(ratePerSecond: Double, burst: Double) {
        self.state.withLockedValue { state in
            state.ratePerSecond = ratePerSecond
            state.burst = max(1, burst)
        }
    }

    /// Takes a token for `key` at `now` (monotonic milliseconds); false when the bucket is empty.
    func take(_ key: String, now: Int64) -> Bool {
        self.state.withLockedValue { state in
            guard state.ratePerSecond > 0 else { return true }
            var bucket = state.buckets[key] ?? Bucket(tokens: state.burst, updated: now)
            let elapsed = Double(max(0, now - bucket.updated)) / 1000
            bucket.tokens = min(state.burst, bucket.tokens + elapsed * state.ratePerSecond)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                state.buckets[key] = bucket
                return false
            }
            bucket.tokens -= 1
            state.buckets[key] = bucket
            return true
        }
    }
}

import NIOConcurrencyHelpers

/// A token bucket per key (an account's publishes): `ratePerSecond` tokens refill continuously up
/// to `burst`; each publish takes one. Shared by every connection of the account.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Int64
    }

    let ratePerSecond: Double
    let burst: Double
    // Safe to share: the buckets are guarded by the lock.
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    /// - Parameters:
    ///   - ratePerSecond: Sustained rate; 0 disables limiting.
    ///   - burst: Bucket size (at least 1).
    init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
    }

    /// Takes a token for `key` at `now` (monotonic milliseconds); false when the bucket is empty.
    func take(_ key: String, now: Int64) -> Bool {
        guard self.ratePerSecond > 0 else { return true }
        return self.buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: self.burst, updated: now)
            let elapsed = Double(max(0, now - bucket.updated)) / 1000
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.ratePerSecond)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return true
        }
    }
}

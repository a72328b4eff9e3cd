/// The reconnect schedule of one ``Follower``: which delay comes next, and when to give up.
///
/// A value type without I/O or clock: the caller reports what happened and draws the next delay
/// with the random source it passes, so tests can fix the randomness. The schedule is
/// ``ReconnectPolicy``'s: full jitter over a ceiling that starts at
/// ``ReconnectPolicy/initialDelay``, grows by ``ReconnectPolicy/multiplier`` per attempt and stops
/// at ``ReconnectPolicy/maxDelay``.
struct Backoff: Sendable, Equatable {
    /// The policy this schedule follows.
    let policy: ReconnectPolicy
    /// Reconnect attempts drawn since the last reset.
    private(set) var attempts = 0
    /// The ceiling of the next delay, in milliseconds.
    private(set) var ceilingMilliseconds: Int

    /// Creates a schedule at its start.
    ///
    /// - Parameter policy: The delays and limits to follow.
    init(policy: ReconnectPolicy) {
        self.policy = policy
        self.ceilingMilliseconds = Self.initialCeiling(policy)
    }

    /// Draws the delay before the next attempt and counts the attempt.
    ///
    /// - Parameter random: The random source; the delay is (all but) uniform over 0...ceiling.
    /// - Returns: The delay in milliseconds, or `nil` when ``ReconnectPolicy/maxAttempts`` attempts
    ///   were already made since the last reset.
    mutating func nextDelay(using random: inout some RandomNumberGenerator) -> Int? {
        if let limit = self.policy.maxAttempts, self.attempts >= limit {
            return nil
        }
        // Maps 64 random bits onto 0...ceiling by multiplying (Lemire's method without its
        // rejection step): the bias is below (ceiling + 1) / 2^64, and a generator that always
        // answers the same bits cannot make it loop, as the standard library's rejection can.
        let span = UInt64(self.ceilingMilliseconds) + 1
        let delay = Int(random.next().multipliedFullWidth(by: span).high)
        self.attempts += 1
        let cap = self.policy.maxDelay.wholeMilliseconds
        let grown = Double(self.ceilingMilliseconds) * max(1, self.policy.multiplier)
        self.ceilingMilliseconds = grown >= Double(cap) ? cap : Int(grown)
        return delay
    }

    /// Reports that a subscribed connection ended after `uptime`; one that lasted
    /// ``ReconnectPolicy/resetAfter`` or longer starts the schedule again.
    ///
    /// - Parameter uptime: How long the connection stayed subscribed.
    mutating func connectionEnded(after uptime: Duration) {
        if uptime >= self.policy.resetAfter {
            self.attempts = 0
            self.ceilingMilliseconds = Self.initialCeiling(self.policy)
        }
    }

    private static func initialCeiling(_ policy: ReconnectPolicy) -> Int {
        min(policy.initialDelay.wholeMilliseconds, policy.maxDelay.wholeMilliseconds)
    }
}

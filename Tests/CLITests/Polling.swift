/// Waiting for something a daemon test observes (a count, a log line) without a timed assertion.
enum Polling {
    /// Polls `condition` every 50 ms until it holds.
    ///
    /// - Parameters:
    ///   - what: What is awaited, for the failure.
    ///   - limit: How long to wait at most (a bound against hanging, never a speed check).
    /// - Throws: ``DaemonFailure`` naming `what` when it does not hold within `limit`.
    static func until(_ what: String, within limit: Duration, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else {
                throw DaemonFailure(description: "not within \(limit): \(what)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

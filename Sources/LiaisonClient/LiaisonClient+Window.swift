import NIOCore

extension LiaisonClient {
    /// Publishes `count` messages keeping at most `window` unanswered at any time (a sliding
    /// window), and measures each acknowledgement's latency: the load generator of `liaisonctl bench`.
    ///
    /// The window is driven on the connection's event loop: each reply immediately releases the
    /// next publish. `ERR` replies are counted in the report, not thrown.
    ///
    /// - Parameters:
    ///   - count: How many messages to publish.
    ///   - window: The most publishes in flight, at least 1.
    ///   - pacing: When to write each publish and when to stop; by default as fast as the window allows.
    ///   - message: Builds message `i` (0-based); called on the event loop, so keep it cheap.
    /// - Returns: Counts, `ERR` replies, per-message latencies and the elapsed time.
    /// - Throws: ``ClientError`` when an item would break the line, a reply is not a `PUB` reply,
    ///   or the connection closed.
    public func publishWindowed(
        count: Int,
        window: Int,
        pacing: PublishPacing = PublishPacing(),
        message: @escaping @Sendable (Int) -> (topic: String, payload: [UInt8], headers: [(String, String)])
    ) async throws -> WindowedPublishReport {
        precondition(window >= 1, "window must be at least 1")
        precondition(count >= 0, "count must not be negative")
        let driver = PublishWindow(
            channel: self.channel,
            count: count,
            window: window,
            pacing: pacing,
            message: message
        )
        return try await driver.start().get()
    }
}

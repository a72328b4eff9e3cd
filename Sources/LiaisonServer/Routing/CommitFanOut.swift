import LiaisonCore

/// Where the group-commit writer hands what it committed: the ``Router`` directly (one daemon,
/// tests), or a ``LogFanOut`` that orders this daemon's batches with other daemons' commits.
///
/// The writer calls these from its commit loop, one at a time, in the order it learns of them.
protocol CommitFanOut: Sendable {
    /// An append is about to be sent to the database.
    func appendStarted()

    /// The append returned; `stored` is what it stored, ascending (empty when it failed, its
    /// outcome is unknown, or every message repeated an `id`).
    func appendEnded(stored: [Message])

    /// A batch whose outcome was unknown turned out to have committed; `stored` ascending.
    func committed(_ stored: [Message])
}

extension Router: CommitFanOut {
    func appendStarted() {}

    func appendEnded(stored: [Message]) {
        if !stored.isEmpty { self.publish(stored) }
    }

    func committed(_ stored: [Message]) {
        if !stored.isEmpty { self.publish(stored) }
    }
}

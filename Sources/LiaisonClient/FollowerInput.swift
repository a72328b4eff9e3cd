/// What the tasks of a ``Follower`` report to its iterator, which alone decides what happens next.
///
/// `generation` numbers the connect attempts; an input of an attempt the iterator has moved past
/// is ignored.
enum FollowerInput: Sendable {
    /// An attempt connected, authenticated and subscribed.
    case subscribed(FollowerLink)
    /// An attempt failed before its `SUB` was accepted.
    case attemptFailed(generation: Int, any Error)
    /// An attempt took longer than ``ReconnectPolicy/attemptTimeout``.
    case attemptTimedOut(generation: Int)
    /// A message arrived on a link.
    case message(generation: Int, ReceivedMessage)
    /// A link closed.
    case lost(generation: Int, reason: String)
    /// The backoff delay before an attempt is over.
    case wake(generation: Int)
    /// A confirm may be due by time.
    case tick
    /// ``Follower/stop()`` was called.
    case stop
}

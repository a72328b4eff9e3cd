/// What a ``Follower`` reports, in order, as it is iterated.
public enum FollowerEvent: Sendable, Equatable {
    /// The subscription is live on a new connection: the first one, or one restored after
    /// ``disconnected(reason:)``.
    case connected
    /// A message not handed out before in this process (duplicates from redeliveries are dropped).
    case message(ReceivedMessage)
    /// The link is down: the subscribed connection was lost, or an attempt to restore it failed.
    /// `reason` is for a person, e.g. `the server closed the connection` or
    /// `server replied ERR 409 …` for a refused `SUB`.
    case disconnected(reason: String)
    /// The follower waits this many milliseconds, then tries to connect and subscribe again.
    case reconnecting(afterMilliseconds: Int)
}

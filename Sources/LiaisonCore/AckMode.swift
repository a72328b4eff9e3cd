/// How a subscription acknowledges delivered messages: the `ack=` option of `SUB`.
public enum AckMode: String, Sendable, CaseIterable {
    /// A message counts as acknowledged once written to the connection (the default).
    case auto
    /// The client acknowledges each message with `ACK <sid> <seq>`; an unacknowledged message
    /// is delivered again after the ack wait.
    case explicit
}

extension ReceivedMessage {
    /// Whether the server sent this message ahead of seq order (`liaison.ahead=1`): a `prio=flash`
    /// message delivered before a backlog, so later in-order messages may have lower seqs.
    public var isAhead: Bool {
        self.headers["liaison.ahead"] == "1"
    }

    /// Which delivery of the message this is: the `liaison.delivery=<n>` flag of a redelivery, or
    /// 1 when the flag is absent (or not a number).
    public var deliveryCount: Int {
        self.headers["liaison.delivery"].flatMap { Int($0) } ?? 1
    }
}

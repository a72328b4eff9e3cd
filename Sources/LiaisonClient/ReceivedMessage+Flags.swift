extension ReceivedMessage {
    /// Whether the server sent this message ahead of seq order (`liaison.ahead=1`): a `prio=flash`
    /// message delivered before a backlog, so later in-order messages may have lower seqs.
    public var isAhead: Bool {
        self.headers["liaison.ahead"] == "1"
    }

    /// The delivery's count towards `max_deliver`: the `liaison.delivery=<n>` flag of a
    /// redelivery, or 1 when the flag is absent (or not a number). A redelivery whose earlier
    /// delivery went back uncounted (docs/PROTOCOL.md, `ack=explicit`) carries `n` = 1.
    public var deliveryCount: Int {
        self.headers["liaison.delivery"].flatMap { Int($0) } ?? 1
    }

    /// Whether the message was delivered before, to this subscription or to an earlier session of
    /// its durable consumer (the `liaison.delivery` flag is present): it may be a duplicate.
    public var isRedelivery: Bool {
        self.headers["liaison.delivery"] != nil
    }
}

/// A parsed `SUB <sid> <pattern> [from=…] [durable=…] [ack=…] [k=v …]` line.
public struct SubscribeRequest: Sendable, Equatable {
    /// The client's id for this subscription, unique per connection; echoed in every `MSG`.
    public var sid: String
    /// The topics to receive.
    public var pattern: TopicPattern
    /// Where delivery starts; ``StartPosition/new`` when `from=` is absent.
    public var start: StartPosition
    /// The name of a server-side cursor kept per (account, name), or `nil` for none.
    public var durable: String?
    /// How delivered messages are acknowledged; ``AckMode/auto`` when `ack=` is absent.
    public var ack: AckMode
    /// Options this version does not interpret, kept in order for later features.
    public var extra: Headers
    /// Whether the client gave `from=` (for a durable consumer that exists, that asks for a reset).
    public var startIsExplicit = false
    /// `ack_wait=<ms>`: how long a delivered message may stay unacknowledged (explicit acks).
    public var ackWaitMilliseconds: Int64?
    /// `max_deliver=<n>`: deliveries before a message goes to the dead letters.
    public var maxDeliver: Int?
    /// `max_inflight=<n>`: unacknowledged messages in flight before delivery pauses.
    public var maxInflight: Int?
    /// `reset=true`: move an existing durable consumer to `from=` (or to new) and take the new pattern.
    public var reset = false

    /// Creates a subscribe request.
    ///
    /// - Parameters:
    ///   - sid: The subscription id.
    ///   - pattern: The topics to receive.
    ///   - start: Where delivery starts.
    ///   - durable: A durable cursor name, or `nil`.
    ///   - ack: The acknowledgement mode.
    ///   - extra: Options not interpreted by this version.
    public init(
        sid: String,
        pattern: TopicPattern,
        start: StartPosition = .new,
        durable: String? = nil,
        ack: AckMode = .auto,
        extra: Headers = Headers()
    ) {
        self.sid = sid
        self.pattern = pattern
        self.start = start
        self.durable = durable
        self.ack = ack
        self.extra = extra
    }
}

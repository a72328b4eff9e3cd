public import LiaisonCore

/// The `SUB` options of a ``Follower``, and which of them it sends on the first and on later
/// connections.
///
/// The first `SUB` carries them all. A later one (after a reconnect) resumes instead of starting
/// again: a durable subscription sends only `durable=` and `ack=` (the server resumes after the
/// consumer's confirmed position; `from=` or `reset=true` would move it), a non-durable one sends
/// `from=<in-order position + 1>` once a message was handed out, else the original `from=`.
/// ``maxDeliver`` goes with every `SUB` (a durable's settings are those of its latest `SUB`).
public struct FollowerOptions: Sendable, Equatable {
    /// The durable consumer's name (`durable=`), or `nil` for a subscription without server state.
    public var durable: String?
    /// `ack=auto` (the default) or `ack=explicit`.
    public var ack: AckMode
    /// Where the first `SUB` starts (`from=`): `new`, `all`, a seq or an RFC 3339 time; `nil`
    /// leaves it to the server (`new`).
    public var from: String?
    /// Whether the first `SUB` moves an existing durable consumer to ``from`` (`reset=true`).
    public var reset: Bool
    /// `max_deliver=` (1–1000) for `ack=explicit`: deliveries before a message goes to the dead
    /// letters; `nil` leaves the server's default (5). A connection that ends counts one delivery
    /// of the oldest message in flight (docs/PROTOCOL.md, `ack=explicit`): on a link that drops
    /// often, allow as many as the drops the consumer must ride out.
    public var maxDeliver: Int?

    /// Creates options.
    ///
    /// - Parameters:
    ///   - durable: The durable consumer's name, or `nil`.
    ///   - ack: The acknowledgement mode.
    ///   - from: The start of the first `SUB`, or `nil`.
    ///   - reset: Whether the first `SUB` sends `reset=true` (only with `durable`).
    ///   - maxDeliver: `max_deliver=` for `ack=explicit`, or `nil` for the server's default.
    public init(
        durable: String? = nil,
        ack: AckMode = .auto,
        from: String? = nil,
        reset: Bool = false,
        maxDeliver: Int? = nil
    ) {
        self.durable = durable
        self.ack = ack
        self.from = from
        self.reset = reset
        self.maxDeliver = maxDeliver
    }

    /// Whether the follower confirms its position with cumulative `ACK`s: durable and `ack=auto`.
    public var confirmsCumulatively: Bool {
        self.durable != nil && self.ack == .auto
    }

    /// The `SUB` options to send.
    ///
    /// - Parameter resumeSeq: `nil` for the first `SUB`; on a later one, the seq after the in-order
    ///   position (``DeliveryLedger/resumeSeq``), itself `nil` when nothing was handed out yet.
    /// - Parameter isFirst: Whether no `SUB` of this follower was accepted yet.
    /// - Returns: `key=value` pairs in the order they are sent.
    func subscribeOptions(isFirst: Bool, resumeSeq: Int64?) -> [(String, String)] {
        var options: [(String, String)] = []
        if let durable = self.durable {
            if isFirst, let from = self.from { options.append(("from", from)) }
            options.append(("durable", durable))
        } else if let from = isFirst ? self.from : (resumeSeq.map(String.init) ?? self.from) {
            options.append(("from", from))
        }
        if self.ack == .explicit {
            options.append(("ack", "explicit"))
            if let maxDeliver = self.maxDeliver { options.append(("max_deliver", "\(maxDeliver)")) }
        }
        if isFirst, self.reset, self.durable != nil { options.append(("reset", "true")) }
        return options
    }
}

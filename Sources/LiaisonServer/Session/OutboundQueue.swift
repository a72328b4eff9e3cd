import DequeModule

/// Keeps a connection's output in command order while some replies are still being computed.
///
/// Every client command gets exactly one reply, in order (docs/PROTOCOL.md), yet `PUB` is
/// answered only after a commit and `AUTH` after a lookup. A command whose reply is not ready
/// reserves a slot; everything queued after it (replies and `MSG` frames alike) waits behind the
/// slot, so a client never sees a `MSG` of a subscription before its `OK SUB`, nor replies out
/// of order. Generic over the frame so the state machine's tests compare plain values.
struct OutboundQueue<Frame> {
    /// Identifies a reserved reply slot.
    struct Ticket: Hashable, Sendable {
        /// Unique per queue, increasing.
        var number: UInt64
    }

    private enum Entry {
        case ready(Frame)
        case waiting(Ticket)
    }

    private var entries = Deque<Entry>()
    private var filled: [Ticket: Frame] = [:]
    private var nextNumber: UInt64 = 0
    /// Tickets reserved and not yet filled.
    private var waiting: Set<Ticket> = []

    /// Whether nothing is held back (a new frame can be written straight away).
    var isEmpty: Bool { self.entries.isEmpty }

    /// The number of replies still awaited.
    var waitingCount: Int { self.waiting.count }

    /// Frames queued behind an awaited reply.
    var heldCount: Int { self.entries.count - self.waitingCount }

    /// Reserves a slot for a reply that will be known later.
    mutating func reserve() -> Ticket {
        let ticket = Ticket(number: self.nextNumber)
        self.nextNumber += 1
        self.entries.append(.waiting(ticket))
        self.waiting.insert(ticket)
        return ticket
    }

    /// Adds a frame that is ready now.
    ///
    /// - Returns: The frames to write now, in order (the frame itself if nothing is held back).
    mutating func append(_ frame: Frame) -> [Frame] {
        if self.entries.isEmpty { return [frame] }
        self.entries.append(.ready(frame))
        return []
    }

    /// Fills a reserved slot; filling an unknown or already filled ticket does nothing.
    ///
    /// - Returns: The frames that can now be written, in order.
    mutating func fill(_ ticket: Ticket, with frame: Frame) -> [Frame] {
        guard self.waiting.remove(ticket) != nil else { return [] }
        self.filled[ticket] = frame
        var out: [Frame] = []
        while let first = self.entries.first {
            switch first {
            case .ready(let frame):
                out.append(frame)
            case .waiting(let ticket):
                guard let frame = self.filled.removeValue(forKey: ticket) else { return out }
                out.append(frame)
            }
            self.entries.removeFirst()
        }
        return out
    }
}

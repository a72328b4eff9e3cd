import DequeModule
import NIOCore

/// Keeps a connection's output in command order while some replies are still being computed.
///
/// Every client command gets exactly one reply, in order (DESIGN.md), yet `PUB` is answered only
/// after a commit and `AUTH` after a lookup. A command whose reply is not ready reserves a slot;
/// everything written after it (replies and `MSG` frames alike) waits behind the slot, so a client
/// never sees a `MSG` of a subscription before its `OK SUB`, nor replies out of order.
struct OutboundQueue {
    /// Identifies a reserved reply slot.
    struct Ticket: Hashable {
        fileprivate var number: UInt64
    }

    private enum Entry {
        case ready(ByteBuffer)
        case waiting(Ticket)
    }

    private var entries = Deque<Entry>()
    private var filled: [Ticket: ByteBuffer] = [:]
    private var nextNumber: UInt64 = 0

    /// Whether nothing is held back (a new frame can be written straight away).
    var isEmpty: Bool { self.entries.isEmpty }

    /// The number of replies still awaited.
    private(set) var waitingCount = 0

    /// Reserves a slot for a reply that will be known later.
    mutating func reserve() -> Ticket {
        let ticket = Ticket(number: self.nextNumber)
        self.nextNumber += 1
        self.entries.append(.waiting(ticket))
        self.waitingCount += 1
        return ticket
    }

    /// Adds a frame that is ready now.
    ///
    /// - Returns: The frames to write now, in order (the frame itself if nothing is held back).
    mutating func append(_ buffer: ByteBuffer) -> [ByteBuffer] {
        if self.entries.isEmpty { return [buffer] }
        self.entries.append(.ready(buffer))
        return []
    }

    /// Fills a reserved slot.
    ///
    /// - Returns: The frames that can now be written, in order.
    mutating func fill(_ ticket: Ticket, with buffer: ByteBuffer) -> [ByteBuffer] {
        self.filled[ticket] = buffer
        self.waitingCount -= 1
        var out: [ByteBuffer] = []
        while let first = self.entries.first {
            switch first {
            case .ready(let buffer):
                out.append(buffer)
            case .waiting(let ticket):
                guard let buffer = self.filled.removeValue(forKey: ticket) else { return out }
                out.append(buffer)
            }
            self.entries.removeFirst()
        }
        return out
    }
}

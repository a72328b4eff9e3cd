import LiaisonCore
import NIOCore

/// One subscription's share of a committed batch: which sid gets which message.
struct Delivery: Sendable {
    /// The subscription id the client chose.
    var sid: String
    /// A per-subscription serial (unique for the daemon's lifetime), so a stale delivery for a
    /// sid that was unsubscribed and reused is told apart.
    var subscriptionID: UInt64
    /// The committed message.
    var message: Message
}

/// Something that receives committed messages on its own event loop: a client connection.
protocol MessageSink: AnyObject, Sendable {
    /// The loop on which ``deliver(_:)`` is called.
    var eventLoop: any EventLoop { get }
    /// Takes the deliveries of one committed batch, in seq order. Called on ``eventLoop``.
    func deliver(_ deliveries: [Delivery])
}

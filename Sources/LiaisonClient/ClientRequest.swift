import NIOCore

/// What ``LiaisonClient`` writes into its channel for ``ClientChannelHandler``.
///
/// The reply promises travel with the bytes, so the handler queues them in exactly the order the
/// bytes reach the socket: that is what lets replies be matched first-in, first-out.
enum ClientRequest: Sendable {
    /// Write `bytes`; each promise takes the next reply line, in order (none for raw bytes).
    case send(ByteBuffer, replies: [EventLoopPromise<Reply>])
    /// Take the oldest reply that no command claimed (one caused by raw bytes), or the next one.
    case nextReply(EventLoopPromise<Reply>)
}

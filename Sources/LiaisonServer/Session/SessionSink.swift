import NIOCore

/// The thread-safe face of a ``ClientSession`` for the router: delivery hops onto the
/// session's own event loop, where the session (a non-Sendable channel handler) lives.
final class SessionSink: MessageSink {
    let eventLoop: any EventLoop
    // NIOLoopBound makes the handler reachable only on its loop; the router calls `deliver` there.
    private let session: NIOLoopBound<ClientSession>

    init(session: ClientSession, eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.session = NIOLoopBound(session, eventLoop: eventLoop)
    }

    func deliver(_ deliveries: [Delivery]) {
        self.session.value.deliver(deliveries)
    }
}

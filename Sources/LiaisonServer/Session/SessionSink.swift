import NIOCore

/// The thread-safe face of a ``SessionHandler`` for the router: delivery hops onto the
/// handler's own event loop, where the handler (a non-Sendable channel handler) lives.
///
/// It holds the handler only until ``detach()``: the router may keep a sink a moment longer than
/// the connection lives, and must not keep the handler (and its buffers) alive with it.
final class SessionSink: MessageSink {
    let eventLoop: any EventLoop
    // Only touched on `eventLoop`: NIOLoopBoundBox checks that.
    private let handler: NIOLoopBoundBox<SessionHandler?>

    init(handler: SessionHandler, eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.handler = NIOLoopBoundBox(handler, eventLoop: eventLoop)
    }

    func deliver(_ deliveries: [Delivery]) {
        self.handler.value?.deliver(deliveries)
    }

    /// Forgets the handler (from `handlerRemoved`).
    func detach() {
        self.handler.value = nil
    }
}

import NIOCore
import NIOHTTP1

/// The first handler of a metrics connection after NIOHTTP1's codec: turns a request into a
/// ``MetricsRoute`` for the next handler, or answers a bad one itself (404, 405). One request per
/// connection: every answer closes it, so a pipelined second request is never read.
///
/// The endpoint has no authentication and no connection limit, so no client may hold a
/// connection (a file descriptor of the daemon, shared with the client listeners) for long: a
/// request not complete within ``requestDeadline`` of the connection opening (a client that sends
/// nothing, or a slowloris trickling header bytes) is closed, and so is a connection after a
/// parse error, once NIOHTTP1's error handler has written its `400`.
final class MetricsRequestGate: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = MetricsRoute
    typealias OutboundOut = HTTPServerResponsePart

    /// How long a client has to send a complete request, from the connection opening.
    let requestDeadline: TimeAmount
    private var parsed: MetricsRequest?
    private var done = false
    private var deadline: Scheduled<Void>?

    /// - Parameter requestDeadline: How long a client has to send a complete request (default 10 s).
    init(requestDeadline: TimeAmount = .seconds(10)) {
        self.requestDeadline = requestDeadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        self.deadline = context.eventLoop.scheduleTask(in: self.requestDeadline) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.deadline?.cancel()
        self.deadline = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A parse error: NIOHTTP1's error handler, before us, already wrote the 400.
        self.done = true
        self.deadline?.cancel()
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.done else { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.parsed = MetricsRoute.parse(method: head.method, uri: head.uri)
        case .body:
            break  // A GET has no body worth reading; whatever came is dropped.
        case .end:
            self.done = true
            self.deadline?.cancel()
            self.deadline = nil
            switch self.parsed {
            case .route(let route):
                context.fireChannelRead(self.wrapInboundOut(route))
            case .refused(let answer):
                context.write(answer)
            case nil:
                context.write(HTTPAnswer.text(.badRequest, "bad request\n"))
            }
        }
    }
}

/// Answers a ``MetricsRoute`` with what `answer` computes (off the event loop: readiness asks the
/// database), then closes the connection.
final class MetricsResponder: ChannelInboundHandler {
    typealias InboundIn = MetricsRoute
    typealias OutboundOut = HTTPServerResponsePart

    private let answer: @Sendable (MetricsRoute) async -> HTTPAnswer

    init(answer: @escaping @Sendable (MetricsRoute) async -> HTTPAnswer) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let route = self.unwrapInboundIn(data)
        let answer = self.answer
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { await answer(route) }.whenSuccess { response in
            bound.value.write(response)
        }
    }
}

extension ChannelHandlerContext {
    /// Writes a complete response with its length and `Connection: close`, then closes.
    fileprivate func write(_ answer: HTTPAnswer) {
        var headers = answer.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.count))
        headers.replaceOrAdd(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers)
        self.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        var buffer = self.channel.allocator.buffer(capacity: answer.body.count)
        buffer.writeBytes(answer.body)
        self.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
        let channel = self.channel
        self.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

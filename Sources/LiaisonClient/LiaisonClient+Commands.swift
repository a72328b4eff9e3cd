import NIOCore

extension LiaisonClient {
    /// Authenticates the connection: `AUTH <account> <token>` → `OK AUTH <account>`.
    ///
    /// - Parameters:
    ///   - account: The account name.
    ///   - token: The account's secret token.
    /// - Throws: ``ServerError`` (401 for wrong credentials); ``ClientError`` when an argument
    ///   holds a space or line break, or the connection closed.
    public func auth(account: String, token: String) async throws {
        let line = "AUTH \(try Self.token(account, "account")) \(try Self.token(token, "token"))"
        try Self.expect(try await self.roundTrip(Self.lineBuffer(line)).line, "OK AUTH")
    }

    /// Publishes one message and waits until it has committed: `PUB` → `OK PUB <seq> [DUP]`.
    ///
    /// - Parameters:
    ///   - topic: The topic, e.g. `hq.ohchr.guidance-note`.
    ///   - payload: The payload bytes; binary-safe.
    ///   - headers: `key=value` headers in order, e.g. `[("id", "gn-19"), ("prio", "urgent")]`.
    /// - Returns: The message's seq, and whether the server took it as a duplicate of its `id`.
    /// - Throws: ``ServerError`` for an `ERR` reply (403 forbidden topic, 503 storage down, …);
    ///   ``ClientError`` when an argument would break the line, or the connection closed.
    public func publish(
        topic: String,
        payload: [UInt8],
        headers: [(String, String)] = []
    ) async throws -> PublishAck {
        let buffer = try Self.publishFrame(topic: topic, payload: payload, headers: headers)
        return try Self.publishAck(from: try await self.roundTrip(buffer).line).get()
    }

    /// Publishes several messages with one write (pipelining), then waits for all replies.
    ///
    /// An `ERR` for one item fails that item only; the others still succeed.
    ///
    /// - Parameter items: The messages, in publish order.
    /// - Returns: One result per item, in the same order.
    /// - Throws: ``ClientError`` when an argument would break the line (nothing is sent then), a
    ///   reply has an unexpected shape, or the connection closed.
    public func publishPipelined(
        _ items: [(topic: String, payload: [UInt8], headers: [(String, String)])]
    ) async throws -> [Result<PublishAck, ServerError>] {
        var buffer = ByteBuffer()
        for item in items {
            var frame = try Self.publishFrame(topic: item.topic, payload: item.payload, headers: item.headers)
            buffer.writeBuffer(&frame)
        }
        var results: [Result<PublishAck, ServerError>] = []
        results.reserveCapacity(items.count)
        for future in self.submit(buffer, replies: items.count) {
            results.append(try Self.publishAck(from: try await future.get().line))
        }
        return results
    }

    /// Subscribes: `SUB <sid> <pattern> [k=v …]` → `OK SUB <sid>`. Messages arrive on ``messages``.
    ///
    /// - Parameters:
    ///   - sid: The subscription id, unique on this connection.
    ///   - pattern: A topic pattern, e.g. `field.*.*.early-warning` or `hq.>`.
    ///   - options: Options in order, e.g. `[("from", "all"), ("durable", "field-mm")]`.
    /// - Throws: ``ServerError`` for an `ERR` reply; ``ClientError`` when an argument would break
    ///   the line, or the connection closed.
    public func subscribe(sid: String, pattern: String, options: [(String, String)] = []) async throws {
        var line = "SUB \(try Self.token(sid, "sid")) \(try Self.token(pattern, "pattern"))"
        line += try Self.keyValues(options)
        try Self.expect(try await self.roundTrip(Self.lineBuffer(line)).line, "OK SUB")
    }

    /// Ends a subscription: `UNSUB <sid>` → `OK UNSUB <sid>`.
    ///
    /// - Parameter sid: The subscription id.
    /// - Throws: ``ServerError`` (404 for an unknown sid); ``ClientError`` as ``subscribe(sid:pattern:options:)``.
    public func unsubscribe(sid: String) async throws {
        let line = "UNSUB \(try Self.token(sid, "sid"))"
        try Self.expect(try await self.roundTrip(Self.lineBuffer(line)).line, "OK UNSUB")
    }

    /// Acknowledges one message of an `ack=explicit` subscription: `ACK <sid> <seq>` → `OK ACK <seq>`.
    ///
    /// - Parameters:
    ///   - sid: The subscription id.
    ///   - seq: The message's seq.
    /// - Throws: ``ServerError`` for an `ERR` reply; ``ClientError`` as ``subscribe(sid:pattern:options:)``.
    public func ack(sid: String, seq: Int64) async throws {
        let line = "ACK \(try Self.token(sid, "sid")) \(seq)"
        try Self.expect(try await self.roundTrip(Self.lineBuffer(line)).line, "OK ACK")
    }

    /// Checks the connection: `PING` → `PONG`.
    ///
    /// - Throws: ``ServerError`` for an `ERR` reply; ``ClientError`` when the connection closed.
    public func ping() async throws {
        try Self.expect(try await self.roundTrip(Self.lineBuffer("PING")).line, "PONG")
    }

    /// Sends one raw control line and returns the reply line verbatim.
    ///
    /// - Parameter line: The line without line ending; the client appends LF.
    /// - Returns: The reply without its line ending: `OK …`, `ERR …` or `PONG`. An `ERR` is returned,
    ///   not thrown.
    /// - Throws: ``ClientError`` when `line` holds an LF, or the connection closed.
    public func command(_ line: String) async throws -> String {
        guard !line.utf8.contains(UInt8(ascii: "\n")) else {
            throw ClientError(.invalidArgument, "a command line must not hold LF; use sendRaw for that")
        }
        return try await self.roundTrip(Self.lineBuffer(line)).line
    }

    /// Says goodbye: `QUIT` → `OK BYE`, then waits until the server has closed the connection.
    ///
    /// - Throws: ``ServerError`` for an `ERR` reply; ``ClientError`` when the connection closed first.
    public func quit() async throws {
        try Self.expect(try await self.roundTrip(Self.lineBuffer("QUIT")).line, "OK BYE")
        await self.waitUntilClosed()
    }

    /// Encodes `PUB <topic> <size> [k=v …]`, LF, the payload and LF.
    static func publishFrame(topic: String, payload: [UInt8], headers: [(String, String)]) throws -> ByteBuffer {
        let line = "PUB \(try Self.token(topic, "topic")) \(payload.count)\(try Self.keyValues(headers))\n"
        var buffer = ByteBuffer()
        buffer.reserveCapacity(line.utf8.count + payload.count + 1)
        buffer.writeString(line)
        buffer.writeBytes(payload)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// Reads a reply to `PUB`: an acknowledgement, an `ERR` as a failure, anything else thrown.
    static func publishAck(from line: String) throws(ClientError) -> Result<PublishAck, ServerError> {
        if let ack = PublishAck(replyLine: line) {
            return .success(ack)
        }
        if let error = ServerError(replyLine: line) {
            return .failure(error)
        }
        throw ClientError(.unexpectedReply, "expected OK PUB <seq>, got \(ClientError.quoted(line))")
    }

    /// Checks that `line` is `expected` or starts with it and a space; throws the `ERR` otherwise.
    static func expect(_ line: String, _ expected: String) throws {
        if line == expected || line.hasPrefix(expected + " ") {
            return
        }
        if let error = ServerError(replyLine: line) {
            throw error
        }
        throw ClientError(.unexpectedReply, "expected \(expected), got \(ClientError.quoted(line))")
    }

    static func lineBuffer(_ line: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(line.utf8.count + 1)
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// Returns `value` when it can be one token of a control line: not empty, no space, CR or LF.
    /// Everything else is left to the server to judge, so tests see its errors.
    static func token(_ value: String, _ what: String) throws(ClientError) -> String {
        let breaksLine = value.utf8.contains {
            $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r")
        }
        guard !value.isEmpty, !breaksLine else {
            throw ClientError(
                .invalidArgument,
                "\(what) \(ClientError.quoted(value)) must be one token without spaces or line breaks"
            )
        }
        return value
    }

    /// ` k=v k=v`, with a leading space, or empty.
    static func keyValues(_ pairs: [(String, String)]) throws(ClientError) -> String {
        var text = ""
        for (key, value) in pairs {
            guard !key.contains("=") else {
                throw ClientError(.invalidArgument, "key \(ClientError.quoted(key)) must not hold =")
            }
            text += " \(try Self.token(key, "key"))=\(try Self.token(value, "value of \(key)"))"
        }
        return text
    }
}

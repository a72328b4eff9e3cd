public import NIOCore

/// Splits the server's byte stream into control lines and `MSG` frames.
///
/// A control line ends in LF, with an optional CR before it. A line starting `MSG ` is the
/// header of a message frame: `MSG <sid> <seq> <topic> <account> <time> <size> [k=v …]`, after
/// which exactly `size` payload bytes follow (binary-safe: CR, LF and NUL are data), then LF or
/// CRLF. Everything else is emitted as ``ServerFrame/line(_:)``, decoded as UTF-8 with invalid
/// sequences replaced; empty lines are skipped.
///
/// The decoder remembers how far it has scanned an incomplete line, so each byte is looked at
/// once, and it throws ``ClientError`` (``ClientError/Code/malformedFrame``) for a line over
/// ``maxLineLength``, a malformed `MSG` header, a size over ``maxPayload`` or a payload not
/// followed by a line ending: after any of these the stream cannot be trusted.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ServerFrameDecoder()))
/// ```
///
/// The mirror of the server's `LineFrameDecoder`, modelled like it on swift-nio's
/// `NIOSplitLinesMessageDecoder` and postgres-nio's `PostgresBackendMessageDecoder`.
public struct ServerFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    /// The decoder emits one frame per call.
    public typealias InboundOut = ServerFrame

    /// The longest control line accepted, in bytes, without its line ending.
    public let maxLineLength: Int
    /// The largest `MSG` payload accepted, in bytes.
    public let maxPayload: Int

    private enum State: Sendable {
        /// Looking for an LF; `scanned` bytes after the reader index hold none.
        case awaitingLine(scanned: Int)
        /// A `MSG` header was consumed; waiting for its payload and line ending.
        case awaitingPayload(ReceivedMessage, size: Int)
    }

    private var state: State = .awaitingLine(scanned: 0)

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - maxLineLength: The longest control line in bytes, line ending excluded. A `MSG` header
    ///     holds up to a topic of 255 bytes and the message's headers, so the default is generous.
    ///   - maxPayload: The largest payload in bytes.
    public init(maxLineLength: Int = 256 * 1024, maxPayload: Int = 64 * 1024 * 1024) {
        precondition(maxLineLength >= 16, "maxLineLength must be at least 16 bytes")
        precondition(maxPayload >= 0, "maxPayload must not be negative")
        self.maxLineLength = maxLineLength
        self.maxPayload = maxPayload
    }

    /// Decodes the next frame.
    ///
    /// - Parameter buffer: The bytes received so far; consumed bytes are read from it.
    /// - Returns: The next frame, or `nil` when more bytes are needed.
    /// - Throws: ``ClientError`` with code ``ClientError/Code/malformedFrame`` when the stream is
    ///   not valid server output.
    public mutating func decode(buffer: inout ByteBuffer) throws -> ServerFrame? {
        while true {
            switch self.state {
            case .awaitingPayload(let header, let size):
                return try self.decodePayload(buffer: &buffer, header: header, size: size)
            case .awaitingLine(let scanned):
                guard let lineFeed = try self.findLineFeed(in: buffer, scanned: scanned) else {
                    return nil
                }
                if let frame = try self.decodeLine(buffer: &buffer, lineFeed: lineFeed) {
                    return frame
                }
            }
        }
    }

    /// Decodes what is left once the server has closed; a partial frame at the end is dropped.
    ///
    /// - Parameters:
    ///   - buffer: The bytes received.
    ///   - seenEOF: Whether end of input was seen.
    /// - Returns: The next complete frame, or `nil`.
    /// - Throws: ``ClientError`` with code ``ClientError/Code/malformedFrame`` as ``decode(buffer:)``.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ServerFrame? {
        try self.decode(buffer: &buffer)
    }

    private mutating func findLineFeed(in buffer: ByteBuffer, scanned: Int) throws(ClientError) -> Int? {
        let limit = self.maxLineLength + 2
        let searchEnd = min(buffer.readableBytes, limit)
        let view = buffer.readableBytesView
        let start = view.startIndex
        if scanned < searchEnd, let index = view[(start + scanned)..<(start + searchEnd)].firstIndex(of: Self.lf) {
            return index - start
        }
        guard buffer.readableBytes < limit else {
            throw ClientError(.malformedFrame, "server line longer than \(self.maxLineLength) bytes")
        }
        self.state = .awaitingLine(scanned: searchEnd)
        return nil
    }

    /// Consumes the line ending at `lineFeed`; returns `nil` for a blank line and for a `MSG`
    /// header, whose payload comes next.
    private mutating func decodeLine(buffer: inout ByteBuffer, lineFeed: Int) throws(ClientError) -> ServerFrame? {
        var length = lineFeed
        if length > 0, buffer.getInteger(at: buffer.readerIndex + length - 1, as: UInt8.self) == Self.cr {
            length -= 1
        }
        let line = buffer.getString(at: buffer.readerIndex, length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: lineFeed + 1)
        self.state = .awaitingLine(scanned: 0)
        if line.isEmpty {
            return nil
        }
        guard line.hasPrefix("MSG ") else {
            return .line(line)
        }
        let (header, size) = try Self.parseMessageHeader(line)
        guard size <= self.maxPayload else {
            throw ClientError(.malformedFrame, "MSG payload of \(size) bytes exceeds \(self.maxPayload)")
        }
        self.state = .awaitingPayload(header, size: size)
        return nil
    }

    private mutating func decodePayload(
        buffer: inout ByteBuffer,
        header: ReceivedMessage,
        size: Int
    ) throws(ClientError) -> ServerFrame? {
        guard buffer.readableBytes > size else {
            return nil
        }
        let terminator = buffer.readerIndex + size
        let endingLength: Int
        switch buffer.getInteger(at: terminator, as: UInt8.self) {
        case Self.lf:
            endingLength = 1
        case Self.cr:
            guard buffer.readableBytes > size + 1 else {
                return nil
            }
            guard buffer.getInteger(at: terminator + 1, as: UInt8.self) == Self.lf else {
                throw ClientError(.malformedFrame, "MSG payload of \(size) bytes is not followed by LF or CRLF")
            }
            endingLength = 2
        default:
            throw ClientError(.malformedFrame, "MSG payload of \(size) bytes is not followed by LF or CRLF")
        }
        var message = header
        message.payload = buffer.readBytes(length: size)!
        buffer.moveReaderIndex(forwardBy: endingLength)
        self.state = .awaitingLine(scanned: 0)
        return .message(message)
    }

    /// Parses `MSG <sid> <seq> <topic> <account> <time> <size> [k=v …]` into a message without
    /// payload and the payload size.
    static func parseMessageHeader(_ line: String) throws(ClientError) -> (ReceivedMessage, Int) {
        let tokens = line.split(separator: " ")
        guard tokens.count >= 7, let seq = Int64(tokens[2]), let size = Int(tokens[6]), size >= 0 else {
            throw ClientError(
                .malformedFrame,
                "expected MSG <sid> <seq> <topic> <account> <time> <size> [k=v ...], got \(ClientError.quoted(line))"
            )
        }
        var headers: [String: String] = [:]
        for token in tokens.dropFirst(7) {
            guard let equals = token.firstIndex(of: "=") else {
                throw ClientError(.malformedFrame, "MSG header \(ClientError.quoted(token)) is not key=value")
            }
            headers[String(token[..<equals])] = String(token[token.index(after: equals)...])
        }
        let message = ReceivedMessage(
            sid: String(tokens[1]),
            seq: seq,
            topic: String(tokens[3]),
            account: String(tokens[4]),
            publishedAt: String(tokens[5]),
            headers: headers,
            headerText: tokens.dropFirst(7).joined(separator: " "),
            payload: []
        )
        return (message, size)
    }
}

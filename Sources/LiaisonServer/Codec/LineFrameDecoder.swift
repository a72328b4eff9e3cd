import LiaisonCore
public import NIOCore

/// Splits the client byte stream into control lines and `PUB` payloads, and parses each line.
///
/// A control line ends in LF, with an optional CR before it; it may hold at most
/// `maxLineLength` bytes, line ending excluded. A `PUB` line is followed by exactly the declared
/// number of payload bytes (binary-safe: CR, LF and NUL are data) and then LF or CRLF. Empty
/// lines, or lines of spaces only, are skipped without a frame, so a stray line ending never
/// draws a reply.
///
/// Errors come in two kinds, after invariant 7 of docs/ARCHITECTURE.md:
/// - fatal, thrown as a ``ProtocolError`` with `closesConnection` set, when the stream can no
///   longer be trusted: a line over the limit (413, raised as soon as the limit is passed without
///   an LF, so nothing is buffered beyond it), a `PUB` size field missing or malformed (400), a
///   size over `maxPayload` (413), a payload not followed by LF or CRLF (400);
/// - non-fatal, emitted as ``InboundFrame/malformed(_:)``: anything else, including invalid UTF-8
///   or a NUL in a line. A `PUB` line with a valid size but a bad topic or header still has its
///   payload consumed first, so the next command parses.
///
/// Each byte is scanned for the line feed once: when a line is incomplete the decoder remembers
/// how far it looked. Offsets are kept relative to the reader index, which stays valid when the
/// handler compacts its buffer.
///
/// Install it with a buffer limit that leaves room for one whole frame:
///
/// ```swift
/// let decoder = LineFrameDecoder(maxLineLength: 4096, maxPayload: 1_048_576)
/// try channel.pipeline.syncOperations.addHandler(
///     ByteToMessageHandler(decoder, maximumBufferSize: decoder.maximumFrameSize * 2)
/// )
/// ```
///
/// Modelled on swift-nio's `NIOSplitLinesMessageDecoder` (remembering the scanned offset) and
/// postgres-nio's `PostgresBackendMessageDecoder` (a single-step decoder that throws on bad bytes).
public struct LineFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    /// The decoder emits one frame per call.
    public typealias InboundOut = InboundFrame

    /// The longest control line accepted, in bytes, without its line ending.
    public let maxLineLength: Int
    /// The largest payload a `PUB` may declare, in bytes.
    public let maxPayload: Int

    private enum State: Sendable {
        /// Looking for the end of a control line; `scanned` bytes after the reader index hold no LF.
        case awaitingLine(scanned: Int)
        /// A `PUB` line was consumed; waiting for `size` payload bytes and a line ending.
        case awaitingPayload(PendingPublish, size: Int)
    }

    /// What to emit once a `PUB` payload has been consumed.
    private enum PendingPublish: Sendable {
        case valid(PublishRequest)
        case invalid(ProtocolError)
    }

    private var state: State = .awaitingLine(scanned: 0)

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let space = UInt8(ascii: " ")

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - maxLineLength: The longest control line in bytes, line ending excluded; at least 16.
    ///   - maxPayload: The largest `PUB` payload in bytes; at least 0.
    public init(maxLineLength: Int = 4096, maxPayload: Int = 1_048_576) {
        precondition(maxLineLength >= 16, "maxLineLength must be at least 16 bytes")
        precondition(maxPayload >= 0, "maxPayload must not be negative")
        self.maxLineLength = maxLineLength
        self.maxPayload = maxPayload
    }

    /// The most bytes one frame occupies: the longest line, the largest payload and two line
    /// endings. A `ByteToMessageHandler` buffer limit should be at least this.
    public var maximumFrameSize: Int {
        self.maxLineLength + self.maxPayload + 4
    }

    /// Decodes the next frame.
    ///
    /// - Parameter buffer: The bytes received so far; consumed bytes are read from it.
    /// - Returns: The next frame, or `nil` when more bytes are needed.
    /// - Throws: ``ProtocolError`` with `closesConnection` set on a fatal framing error.
    public mutating func decode(buffer: inout ByteBuffer) throws -> InboundFrame? {
        while true {
            switch self.state {
            case .awaitingPayload(let pending, let size):
                return try self.decodePayload(buffer: &buffer, pending: pending, size: size)
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

    /// Decodes the next frame once the peer has closed; an incomplete frame left at the end
    /// is dropped, since no reply can reach the peer.
    ///
    /// - Parameters:
    ///   - buffer: The bytes received.
    ///   - seenEOF: Whether end of input was seen.
    /// - Returns: The next complete frame, or `nil`.
    /// - Throws: ``ProtocolError`` with `closesConnection` set on a fatal framing error.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> InboundFrame? {
        try self.decode(buffer: &buffer)
    }

    /// Returns the offset of the next LF after the reader index, or `nil` when it has not
    /// arrived yet; never looks further than a line of the maximum length could reach.
    private mutating func findLineFeed(in buffer: ByteBuffer, scanned: Int) throws(ProtocolError) -> Int? {
        // A line of maxLineLength bytes plus its CR: an LF must appear within this many bytes.
        let limit = self.maxLineLength + 2
        let searchEnd = min(buffer.readableBytes, limit)
        let view = buffer.readableBytesView
        let start = view.startIndex
        if scanned < searchEnd,
            let index = view[(start + scanned)..<(start + searchEnd)].firstIndex(of: Self.lf)
        {
            return index - start
        }
        guard buffer.readableBytes < limit else {
            throw Self.lineTooLong(self.maxLineLength)
        }
        self.state = .awaitingLine(scanned: searchEnd)
        return nil
    }

    /// Consumes the line ending at `lineFeed` and parses it. Returns `nil` for a skipped blank
    /// line and for a `PUB` line, whose payload comes next.
    private mutating func decodeLine(buffer: inout ByteBuffer, lineFeed: Int) throws(ProtocolError) -> InboundFrame? {
        var length = lineFeed
        if length > 0, buffer.getInteger(at: buffer.readerIndex + length - 1, as: UInt8.self) == Self.cr {
            length -= 1
        }
        guard length <= self.maxLineLength else {
            throw Self.lineTooLong(self.maxLineLength)
        }
        let (line, isValidUTF8) = buffer.withUnsafeReadableBytes { bytes in
            Self.text(of: UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
        }
        buffer.moveReaderIndex(forwardBy: lineFeed + 1)
        self.state = .awaitingLine(scanned: 0)
        if line.utf8.allSatisfy({ $0 == Self.space }) {
            return nil
        }

        let lineError: ProtocolError
        if isValidUTF8 {
            do throws(ProtocolError) {
                let command = try ClientCommand.parse(line[...])
                guard case .publish(let request) = command else {
                    return .command(command)
                }
                guard request.size <= self.maxPayload else {
                    throw ClientCommand.payloadTooLarge(size: request.size, maxPayload: self.maxPayload)
                }
                self.state = .awaitingPayload(.valid(request), size: request.size)
                return nil
            } catch {
                guard !error.closesConnection else {
                    throw error
                }
                lineError = error
            }
        } else {
            lineError = ProtocolError(.badRequest, "line is not valid UTF-8")
        }
        // The line is bad; if it is a PUB with a usable size, skip its payload before reporting.
        if let size = try ClientCommand.declaredPayloadSize(ofLine: line[...], maxPayload: self.maxPayload) {
            self.state = .awaitingPayload(.invalid(lineError), size: size)
            return nil
        }
        return .malformed(lineError)
    }

    /// Consumes a payload and its line ending once all of it has arrived.
    private mutating func decodePayload(
        buffer: inout ByteBuffer,
        pending: PendingPublish,
        size: Int
    ) throws(ProtocolError) -> InboundFrame? {
        guard buffer.readableBytes > size else {
            return nil
        }
        let terminatorIndex = buffer.readerIndex + size
        let endingLength: Int
        switch buffer.getInteger(at: terminatorIndex, as: UInt8.self) {
        case Self.lf:
            endingLength = 1
        case Self.cr:
            guard buffer.readableBytes > size + 1 else {
                return nil
            }
            guard buffer.getInteger(at: terminatorIndex + 1, as: UInt8.self) == Self.lf else {
                throw Self.missingPayloadEnding(size)
            }
            endingLength = 2
        default:
            throw Self.missingPayloadEnding(size)
        }
        let payload = buffer.readSlice(length: size)!
        buffer.moveReaderIndex(forwardBy: endingLength)
        self.state = .awaitingLine(scanned: 0)
        switch pending {
        case .valid(let request):
            return .publish(request, payload: payload)
        case .invalid(let error):
            return .malformed(error)
        }
    }

    /// The line as a string, and whether its bytes were valid UTF-8; invalid bytes are
    /// replaced (U+FFFD) so that the size field of a bad `PUB` line can still be read.
    private static func text(of bytes: UnsafeRawBufferPointer) -> (String, Bool) {
        bytes.withMemoryRebound(to: UInt8.self) { typed in
            if let valid = String(validating: typed, as: UTF8.self) {
                return (valid, true)
            }
            return (String(decoding: typed, as: UTF8.self), false)
        }
    }

    private static func lineTooLong(_ maxLineLength: Int) -> ProtocolError {
        ProtocolError(
            .payloadTooLarge,
            "control line longer than \(maxLineLength) bytes",
            closesConnection: true
        )
    }

    private static func missingPayloadEnding(_ size: Int) -> ProtocolError {
        ProtocolError(
            .badRequest,
            "payload of \(size) bytes is not followed by LF or CRLF",
            closesConnection: true
        )
    }
}

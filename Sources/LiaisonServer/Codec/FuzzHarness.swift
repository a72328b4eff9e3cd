package import LiaisonCore
import NIOCore

/// The checks the fuzz target (`Sources/LiaisonFuzz`) and the corpus regression test run on one
/// input: the input is the bytes a client sends on one connection.
///
/// ``check(_:)`` feeds the bytes through ``LineFrameDecoder`` twice, once as one buffer and once
/// in chunks whose sizes come from the input itself, with two sets of limits: tiny ones (a 32-byte
/// line, a 64-byte payload) that random inputs reach, and the daemon's defaults. It also parses
/// every LF-terminated line with ``ClientCommand/parse(_:)`` directly. The invariants:
/// - the decoder returns a frame, asks for more (`nil`), or throws a ``ProtocolError`` with
///   `closesConnection` set; any other error is a violation;
/// - never more frames than line feeds in the input, and every frame consumes bytes;
/// - while the decoder waits for more, it holds at most ``LineFrameDecoder/maximumFrameSize``
///   unconsumed bytes, so memory per connection stays bounded;
/// - a `PUB` frame's payload has exactly the declared size, at most `maxPayload`;
/// - a ``InboundFrame/malformed(_:)`` frame never carries a fatal error;
/// - every error's reply line is one line;
/// - chunked and whole-buffer decoding give the same frames and the same final error;
/// - a line that ``ClientCommand/parse(_:)`` reads as `PUB` declares the same size to
///   ``ClientCommand/declaredPayloadSize(ofLine:maxPayload:)``.
///
/// The package access level keeps it out of the public API while the fuzz executable, a separate
/// module, can call it in both debug and release builds (`@testable import` needs `-enable-testing`).
package enum FuzzHarness {
    /// A broken invariant, with the input it was found on.
    package struct Violation: Error, CustomStringConvertible {
        /// What went wrong.
        package var reason: String

        /// The reason, for test failures and crash logs.
        package var description: String { self.reason }
    }

    /// What decoding one input produced.
    package struct Outcome: Equatable {
        /// The frames, in order.
        package var frames: [InboundFrame]
        /// The fatal error that ended decoding, or `nil` when the input ran out first.
        package var error: ProtocolError?
        /// Bytes left undecoded at the end (an incomplete frame, or bytes after a fatal error).
        package var unconsumed: Int
    }

    /// The limits each input is decoded with: tiny ones that random inputs hit, and the defaults.
    package static let limits: [(maxLineLength: Int, maxPayload: Int)] = [(32, 64), (4096, 1_048_576)]

    /// Checks every invariant on `bytes`.
    ///
    /// - Parameter bytes: What a client sends on one connection, in order.
    /// - Returns: The outcome with the daemon's default limits (the last of ``limits``).
    /// - Throws: ``Violation`` when an invariant does not hold.
    @discardableResult
    package static func check(_ bytes: [UInt8]) throws(Violation) -> Outcome {
        try self.checkLines(bytes)
        var outcome: Outcome?
        for limit in self.limits {
            let decoder = LineFrameDecoder(maxLineLength: limit.maxLineLength, maxPayload: limit.maxPayload)
            let whole = try self.decode(bytes, with: decoder, chunkSizes: [bytes.count])
            let chunked = try self.decode(bytes, with: decoder, chunkSizes: self.chunkSizes(for: bytes))
            guard whole == chunked else {
                throw Violation(
                    reason: "chunked decoding differs (limits \(limit)): whole \(whole), chunked \(chunked)"
                )
            }
            outcome = whole
        }
        return outcome!
    }

    /// Decodes `bytes` delivered in chunks of the given sizes (cycled), as a channel would.
    private static func decode(
        _ bytes: [UInt8],
        with initial: LineFrameDecoder,
        chunkSizes: [Int]
    ) throws(Violation) -> Outcome {
        var decoder = initial
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var frames: [InboundFrame] = []
        var offset = 0
        var chunk = 0
        let lineFeeds = bytes.count(where: { $0 == UInt8(ascii: "\n") })
        repeat {
            let size = max(1, chunkSizes[chunk % chunkSizes.count])
            chunk += 1
            let end = min(bytes.count, offset + size)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while true {
                let before = buffer.readerIndex
                let frame: InboundFrame?
                do {
                    frame = try decoder.decode(buffer: &buffer)
                } catch let error as ProtocolError {
                    guard error.closesConnection else {
                        throw Violation(reason: "decoder threw a non-fatal error: \(error)")
                    }
                    try self.checkReply(error)
                    return Outcome(
                        frames: frames,
                        error: error,
                        unconsumed: bytes.count - offset + buffer.readableBytes
                    )
                } catch {
                    throw Violation(reason: "decoder threw \(type(of: error)), not ProtocolError: \(error)")
                }
                guard let frame else {
                    guard buffer.readableBytes <= decoder.maximumFrameSize else {
                        throw Violation(
                            reason: "decoder holds \(buffer.readableBytes) bytes, over \(decoder.maximumFrameSize)"
                        )
                    }
                    break
                }
                guard buffer.readerIndex > before else {
                    throw Violation(reason: "frame \(frame) consumed no bytes")
                }
                try self.checkFrame(frame, maxPayload: decoder.maxPayload)
                frames.append(frame)
                guard frames.count <= lineFeeds else {
                    throw Violation(reason: "\(frames.count) frames from \(lineFeeds) line feeds")
                }
                // As ByteToMessageHandler does between reads: keeps the reader index small.
                buffer.discardReadBytes()
            }
        } while offset < bytes.count
        // End of input, as ByteToMessageHandler calls it when the peer closes.
        while true {
            let frame: InboundFrame?
            do {
                frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true)
            } catch let error as ProtocolError {
                guard error.closesConnection else {
                    throw Violation(reason: "decodeLast threw a non-fatal error: \(error)")
                }
                return Outcome(frames: frames, error: error, unconsumed: buffer.readableBytes)
            } catch {
                throw Violation(reason: "decodeLast threw \(type(of: error)): \(error)")
            }
            guard let frame else {
                return Outcome(frames: frames, error: nil, unconsumed: buffer.readableBytes)
            }
            try self.checkFrame(frame, maxPayload: decoder.maxPayload)
            frames.append(frame)
            guard frames.count <= lineFeeds else {
                throw Violation(reason: "\(frames.count) frames from \(lineFeeds) line feeds at end of input")
            }
        }
    }

    /// Chunk sizes taken from the input's own bytes, so the fuzzer explores split points too.
    private static func chunkSizes(for bytes: [UInt8]) -> [Int] {
        guard !bytes.isEmpty else {
            return [1]
        }
        return bytes.prefix(8).map { Int($0 % 17) + 1 }
    }

    private static func checkFrame(_ frame: InboundFrame, maxPayload: Int) throws(Violation) {
        switch frame {
        case .command(let command):
            if case .publish = command {
                throw Violation(reason: "PUB emitted as a plain command, without its payload")
            }
        case .publish(let request, let payload):
            guard payload.readableBytes == request.size, request.size <= maxPayload else {
                throw Violation(
                    reason: "payload of \(payload.readableBytes) bytes for declared \(request.size), max \(maxPayload)"
                )
            }
        case .malformed(let error):
            guard !error.closesConnection else {
                throw Violation(reason: "malformed frame carries a fatal error: \(error)")
            }
            try self.checkReply(error)
        }
    }

    private static func checkReply(_ error: ProtocolError) throws(Violation) {
        let line = error.replyLine
        guard !line.utf8.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }),
            line.hasPrefix("ERR \(error.code.rawValue) "),
            line.utf8.count <= "ERR 000 ".utf8.count + ProtocolError.maxMessageBytes + "...".utf8.count
        else {
            throw Violation(reason: "reply is not one bounded line: \(line.debugDescription)")
        }
    }

    /// Parses each line (LF-terminated, CR stripped, valid UTF-8) on its own.
    private static func checkLines(_ bytes: [UInt8]) throws(Violation) {
        for var line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            if line.last == UInt8(ascii: "\r") {
                line = line.dropLast()
            }
            guard let text = String(validating: line, as: UTF8.self) else {
                continue
            }
            let parsed: ClientCommand
            do {
                parsed = try ClientCommand.parse(text[...])
            } catch {
                try self.checkReply(error)
                continue
            }
            guard case .publish(let request) = parsed else {
                continue
            }
            let declared: Int?
            do {
                declared = try ClientCommand.declaredPayloadSize(ofLine: text[...], maxPayload: Int.max)
            } catch {
                throw Violation(reason: "declaredPayloadSize rejects a line parse accepts: \(error)")
            }
            guard declared == request.size else {
                throw Violation(reason: "PUB size \(request.size) but declared \(String(describing: declared))")
            }
        }
    }
}

import LiaisonCore
import LiaisonServer
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct LineFrameCodecTests {
    // MARK: Helpers

    private static func buffer(_ bytes: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }

    private static func buffer(_ text: String) -> ByteBuffer {
        ByteBuffer(string: text)
    }

    private static func publish(_ topic: String, _ payload: [UInt8], headers: [Substring] = []) throws -> InboundFrame {
        let request = PublishRequest(
            topic: try Topic(topic),
            size: payload.count,
            headers: try Headers(parsing: headers)
        )
        return .publish(request, payload: ByteBuffer(bytes: payload))
    }

    /// Feeds `input` in chunks of `chunkSize` bytes (all at once when nil) and decodes every frame,
    /// then the frames left at end of input.
    private static func decode(
        _ input: [UInt8],
        chunkSize: Int? = nil,
        decoder: LineFrameDecoder = LineFrameDecoder()
    ) throws -> [InboundFrame] {
        var decoder = decoder
        var buffer = ByteBuffer()
        var frames: [InboundFrame] = []
        var offset = 0
        while offset < input.count {
            let end = min(input.count, offset + (chunkSize ?? input.count))
            buffer.writeBytes(input[offset..<end])
            offset = end
            while let frame = try decoder.decode(buffer: &buffer) {
                frames.append(frame)
            }
        }
        while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
            frames.append(frame)
        }
        return frames
    }

    private static func fatalError(
        _ input: [UInt8],
        decoder: LineFrameDecoder = LineFrameDecoder()
    ) -> [ProtocolError?] {
        [nil, 1, 7].map { chunkSize in
            #expect(throws: ProtocolError.self) { try Self.decode(input, chunkSize: chunkSize, decoder: decoder) }
        }
    }

    // MARK: Valid streams, through NIO's verifier (byte by byte, whole, and many frames per buffer)

    @Test func verifiesValidStreams() throws {
        let pairs: [(ByteBuffer, [InboundFrame])] = [
            (Self.buffer("PING\n"), [.command(.ping)]),
            (Self.buffer("ping\r\n"), [.command(.ping)]),
            (Self.buffer("PONG\n"), [.command(.pong)]),
            (Self.buffer("AUTH ohchr t0ken\r\n"), [.command(.auth(account: "ohchr", token: "t0ken"))]),
            (Self.buffer("ACK s1 42\n"), [.command(.ack(sid: "s1", seq: 42))]),
            (Self.buffer("UNSUB s1\n"), [.command(.unsubscribe(sid: "s1"))]),
            (
                Self.buffer("SUB s1 hq.> from=all\n"),
                [
                    .command(
                        .subscribe(
                            try {
                                var request = SubscribeRequest(
                                    sid: "s1",
                                    pattern: try TopicPattern("hq.>"),
                                    start: .all
                                )
                                request.startIsExplicit = true
                                return request
                            }()
                        )
                    )
                ]
            ),
            (Self.buffer("PUB hq.ohchr 5\nhello\n"), [try Self.publish("hq.ohchr", Array("hello".utf8))]),
            (Self.buffer("PUB hq.ohchr 5\r\nhello\r\n"), [try Self.publish("hq.ohchr", Array("hello".utf8))]),
            (Self.buffer("PUB a 0\n\n"), [try Self.publish("a", [])]),
            (Self.buffer("PUB a 0\r\n\r\n"), [try Self.publish("a", [])]),
            (
                Self.buffer(Array("PUB bin 7 id=b1\n".utf8) + [0x0D, 0x0A, 0x00, 0x0A, 0x0D, 0xFF, 0x0D] + [0x0A]),
                [try Self.publish("bin", [0x0D, 0x0A, 0x00, 0x0A, 0x0D, 0xFF, 0x0D], headers: ["id=b1"])]
            ),
            (Self.buffer("PUB crlf 2\r\n\r\n\r\n"), [try Self.publish("crlf", [0x0D, 0x0A])]),
            (Self.buffer("\n\r\n   \n"), []),
            (
                Self.buffer("PING\nPUB t 3 prio=flash\nabc\nQUIT\n"),
                [.command(.ping), try Self.publish("t", Array("abc".utf8), headers: ["prio=flash"]), .command(.quit)]
            ),
            (Self.buffer("HELLO\n"), [.malformed(ProtocolError(.badRequest, "unknown command \"HELLO\""))]),
            (
                Self.buffer("PUB bad..topic 4\nPING\nPING\n"),
                [
                    .malformed(ProtocolError(.badRequest, "topic \"bad..topic\" has an empty token")),
                    .command(.ping),
                ]
            ),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { LineFrameDecoder() }
    }

    // MARK: Non-fatal errors: the stream stays in sync

    @Test func publishWithBadTopicConsumesItsPayload() throws {
        let frames = try Self.decode(Array("PUB hq..x 9 prio=flash\nPING\nQUIT\nSUB s1 a\n".utf8))
        #expect(frames.count == 2)
        guard case .malformed(let error) = frames.first else {
            Issue.record("expected a malformed frame, got \(frames)")
            return
        }
        #expect(error.code == .badRequest)
        #expect(!error.closesConnection)
        #expect(frames.last == .command(.subscribe(SubscribeRequest(sid: "s1", pattern: try TopicPattern("a")))))
    }

    @Test func publishWithBadHeaderConsumesItsPayload() throws {
        let frames = try Self.decode(Array("PUB hq 2 prio=soon\nok\nPING\n".utf8), chunkSize: 1)
        #expect(frames.count == 2)
        #expect(frames.last == .command(.ping))
    }

    @Test(arguments: [
        (Array("PI\u{0}NG\n".utf8), "control character 0x00"),
        ([0x50, 0x49, 0x4E, 0x47, 0xFF, 0x0A], "not valid UTF-8"),
        ([0x41, 0x55, 0x54, 0x48, 0x20, 0x61, 0x20, 0xC3, 0x28, 0x0A], "not valid UTF-8"),
        (Array("PING\tx\n".utf8), "tab in line"),
        (Array("PING\r\r\n".utf8), "control character 0x0D"),
    ])
    func badBytesInALineAreMalformed(input: [UInt8], reason: String) throws {
        let frames = try Self.decode(input + Array("PING\n".utf8), chunkSize: 1)
        #expect(frames.count == 2)
        guard case .malformed(let error) = frames.first else {
            Issue.record("expected a malformed frame, got \(frames)")
            return
        }
        #expect(error.code == .badRequest)
        #expect(!error.closesConnection)
        #expect(error.message.contains(reason), "\(error.message)")
        #expect(frames.last == .command(.ping))
    }

    @Test func publishLineWithInvalidUTF8StillSkipsItsPayload() throws {
        let input: [UInt8] = Array("PUB a 3 k=".utf8) + [0xFF] + Array("\nPUB\nPING\n".utf8)
        let frames = try Self.decode(input)
        #expect(frames == [.malformed(ProtocolError(.badRequest, "line is not valid UTF-8")), .command(.ping)])
    }

    // MARK: Fatal errors

    @Test(arguments: [
        ("PUB hq -1\nabc\n", ErrorCode.badRequest),
        ("PUB hq 99999999999999999999\n", .badRequest),
        ("PUB hq\n", .badRequest),
        ("PUB\n", .badRequest),
        ("pub hq five\nfive!\n", .badRequest),
        ("PUB hq 1048577\n", .payloadTooLarge),
        ("PUB hq 9999999999999999999\n", .payloadTooLarge),
        ("PUB hq..bad 1048577\n", .payloadTooLarge),
        ("PUB hq 3\nabcd\n", .badRequest),
        ("PUB hq 3\nab\nPING\n", .badRequest),
        ("PUB hq 3\nabc\rX", .badRequest),
        ("PUB hq 3\nabcPING\n", .badRequest),
    ])
    func framingErrorsAreFatal(input: String, code: ErrorCode) {
        for error in Self.fatalError(Array(input.utf8)) {
            #expect(error?.code == code)
            #expect(error?.closesConnection == true)
        }
    }

    @Test func sizeAboveAConfiguredMaximumIsFatal() throws {
        let decoder = LineFrameDecoder(maxLineLength: 64, maxPayload: 10)
        #expect(try Self.decode(Array("PUB a 10\n0123456789\n".utf8), decoder: decoder).count == 1)
        for error in Self.fatalError(Array("PUB a 11\n01234567890\n".utf8), decoder: decoder) {
            #expect(
                error
                    == ProtocolError(
                        .payloadTooLarge,
                        "payload of 11 bytes exceeds max_payload 10",
                        closesConnection: true
                    )
            )
        }
    }

    // MARK: Line length

    @Test func acceptsALineOfExactlyTheMaximumLength() throws {
        let decoder = LineFrameDecoder(maxLineLength: 32)
        let line = "SUB s1 " + String(repeating: "a", count: 25)
        #expect(line.utf8.count == 32)
        for ending in ["\n", "\r\n"] {
            let frames = try Self.decode(Array((line + ending).utf8), chunkSize: 1, decoder: decoder)
            #expect(frames.count == 1)
        }
    }

    @Test(arguments: ["\n", "\r\n"])
    func rejectsALineOneByteTooLong(ending: String) {
        let decoder = LineFrameDecoder(maxLineLength: 32)
        let line = "SUB s1 " + String(repeating: "a", count: 26)
        for error in Self.fatalError(Array((line + ending).utf8), decoder: decoder) {
            #expect(error?.code == .payloadTooLarge)
            #expect(error?.closesConnection == true)
        }
    }

    @Test func rejectsAnOversizeLineBeforeItsLineFeedArrives() throws {
        var decoder = LineFrameDecoder(maxLineLength: 32)
        var buffer = ByteBuffer(repeating: UInt8(ascii: "a"), count: 33)
        // 32 bytes plus a possible CR: the line may still be valid.
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeInteger(UInt8(ascii: "a"))
        let error = #expect(throws: ProtocolError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error?.code == .payloadTooLarge)
        #expect(error?.closesConnection == true)
    }

    @Test func rejectsADefaultSizeFloodWithoutLineFeed() throws {
        var decoder = LineFrameDecoder()
        var buffer = ByteBuffer()
        var thrown: ProtocolError?
        for _ in 0..<100 {
            buffer.writeRepeatingByte(UInt8(ascii: "x"), count: 1000)
            do {
                _ = try decoder.decode(buffer: &buffer)
            } catch let error as ProtocolError {
                thrown = error
                break
            }
        }
        #expect(thrown?.code == .payloadTooLarge)
        #expect(buffer.readableBytes <= 5000)
    }

    // MARK: Streaming

    @Test func decodesPipelinedCommandsFromOneBuffer() throws {
        var decoder = LineFrameDecoder()
        var buffer = ByteBuffer(string: "AUTH ohchr tok\nPUB hq 2\nhi\nSUB s1 hq.>\nPING\nPUB hq")
        var frames: [InboundFrame] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            frames.append(frame)
        }
        #expect(frames.count == 4)
        #expect(frames[1] == (try Self.publish("hq", Array("hi".utf8))))
        buffer.writeString(" 1\nx\n")
        #expect(try decoder.decode(buffer: &buffer) == (try Self.publish("hq", Array("x".utf8))))
        #expect(buffer.readableBytes == 0)
    }

    @Test func waitsForTheWholePayloadAndItsLineEnding() throws {
        var decoder = LineFrameDecoder()
        var buffer = ByteBuffer(string: "PUB hq 4\nab")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("cd")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("\r")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("\n")
        #expect(try decoder.decode(buffer: &buffer) == (try Self.publish("hq", Array("abcd".utf8))))
    }

    @Test func dropsAnIncompleteFrameAtEndOfInput() throws {
        #expect(try Self.decode(Array("PING\nPUB hq 10\nabc".utf8)) == [.command(.ping)])
        #expect(try Self.decode(Array("PING\nQUIT".utf8)) == [.command(.ping)])
    }

    @Test func fatalErrorReachesThePipelineThroughTheHandler() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineLength: 64)))
        #expect(throws: ProtocolError.self) {
            try channel.writeInbound(ByteBuffer(string: "PING\nPUB hq -1\n"))
        }
        #expect(try channel.readInbound(as: InboundFrame.self) == .command(.ping))
        _ = try? channel.finish()
    }
}

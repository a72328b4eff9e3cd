import LiaisonClient
import NIOCore
import NIOTestUtils
import Testing

@Suite struct ServerFrameDecoderTests {
    private static func message(
        sid: String = "s1",
        seq: Int64,
        topic: String = "field.mm.sittwe.early-warning",
        headers: [String: String] = [:],
        headerText: String = "",
        payload: [UInt8]
    ) -> ServerFrame {
        .message(
            ReceivedMessage(
                sid: sid,
                seq: seq,
                topic: topic,
                account: "unhcr-mm-sittwe",
                publishedAt: "2025-03-01T09:30:00.123456Z",
                headers: headers,
                headerText: headerText,
                payload: payload
            )
        )
    }

    private static func msgBytes(
        _ header: String,
        _ payload: [UInt8],
        ending: String = "\n"
    ) -> ByteBuffer {
        var buffer = ByteBuffer(string: header + "\n")
        buffer.writeBytes(payload)
        buffer.writeString(ending)
        return buffer
    }

    @Test(arguments: [
        ("OK PUB 12\n", "OK PUB 12"),
        ("OK PUB 12 DUP\r\n", "OK PUB 12 DUP"),
        ("ERR 400 unknown command \"FOO\"\n", "ERR 400 unknown command \"FOO\""),
        ("PONG\n", "PONG"),
        ("PING\r\n", "PING"),
        ("LIAISON 1 node=hq-1 max_payload=1048576\n", "LIAISON 1 node=hq-1 max_payload=1048576"),
        ("OK SUB s1\n", "OK SUB s1"),
    ])
    func controlLinesAreOneFrameEach(input: String, line: String) throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [(input, [ServerFrame.line(line)])],
            decoderFactory: { ServerFrameDecoder() }
        )
    }

    @Test func blankLinesAreSkipped() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [("\n\r\nPONG\n", [ServerFrame.line("PONG")])],
            decoderFactory: { ServerFrameDecoder() }
        )
    }

    @Test func binaryPayloadsSurviveEverySplit() throws {
        let hostile: [UInt8] = Array("line one\r\nMSG s1 9 a b c 3\n".utf8) + [0, 0x0D, 0x0A, 0xFF, 0x0A]
        let pairs: [(ByteBuffer, [ServerFrame])] = [
            (
                Self.msgBytes(
                    "MSG s1 41 field.mm.sittwe.early-warning unhcr-mm-sittwe 2025-03-01T09:30:00.123456Z \(hostile.count)",
                    hostile
                ),
                [Self.message(seq: 41, payload: hostile)]
            ),
            (
                Self.msgBytes(
                    "MSG s1 42 field.mm.sittwe.early-warning unhcr-mm-sittwe 2025-03-01T09:30:00.123456Z 0",
                    []
                ),
                [Self.message(seq: 42, payload: [])]
            ),
            (
                Self.msgBytes(
                    "MSG s1 43 field.mm.sittwe.early-warning unhcr-mm-sittwe 2025-03-01T09:30:00.123456Z 3 id=ew-7 prio=flash",
                    [0x0D, 0x0A, 0x00],
                    ending: "\r\n"
                ),
                [
                    Self.message(
                        seq: 43,
                        headers: ["id": "ew-7", "prio": "flash"],
                        headerText: "id=ew-7 prio=flash",
                        payload: [0x0D, 0x0A, 0x00]
                    )
                ]
            ),
            (ByteBuffer(string: "OK ACK 41\n"), [.line("OK ACK 41")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: pairs,
            decoderFactory: { ServerFrameDecoder() }
        )
    }

    @Test func partialFrameWaitsForMoreBytes() throws {
        var decoder = ServerFrameDecoder()
        var buffer = ByteBuffer(string: "MSG s1 1 hq.a ohchr 2025-03-01T09:30:00Z 5\nab")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("cde")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("\n")
        let frame = try #require(try decoder.decode(buffer: &buffer))
        guard case .message(let message) = frame else {
            Issue.record("expected a message, got \(frame)")
            return
        }
        #expect(message.payload == Array("abcde".utf8))
        #expect(message.topic == "hq.a")
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: [
        "MSG s1 notanumber hq.a ohchr 2025-03-01T09:30:00Z 5\nabcde\n",
        "MSG s1 1 hq.a ohchr 2025-03-01T09:30:00Z\n",
        "MSG s1 1 hq.a ohchr 2025-03-01T09:30:00Z -1\n",
        "MSG s1 1 hq.a ohchr 2025-03-01T09:30:00Z 3 novalue\nabc\n",
        "MSG s1 1 hq.a ohchr 2025-03-01T09:30:00Z 3\nabcX\n",
        "MSG s1 1 hq.a ohchr 2025-03-01T09:30:00Z 3\nabc\rX",
    ])
    func malformedMessageFramesThrow(input: String) {
        var decoder = ServerFrameDecoder()
        var buffer = ByteBuffer(string: input)
        #expect {
            _ = try decoder.decode(buffer: &buffer)
        } throws: { error in
            (error as? ClientError)?.code == .malformedFrame
        }
    }

    @Test func overlongLineThrowsWithoutWaitingForItsEnd() {
        var decoder = ServerFrameDecoder(maxLineLength: 32)
        var buffer = ByteBuffer(string: String(repeating: "x", count: 40))
        #expect {
            _ = try decoder.decode(buffer: &buffer)
        } throws: { error in
            (error as? ClientError)?.code == .malformedFrame
        }
    }

    @Test func oversizePayloadThrows() {
        var decoder = ServerFrameDecoder(maxPayload: 4)
        var buffer = ByteBuffer(string: "MSG s1 1 hq.a ohchr 2025-03-01T09:30:00Z 5\n")
        #expect {
            _ = try decoder.decode(buffer: &buffer)
        } throws: { error in
            (error as? ClientError)?.code == .malformedFrame
        }
    }
}

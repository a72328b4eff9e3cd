import Foundation
import LiaisonCore
import LiaisonServer
import NIOCore
import Testing

@Suite struct ServerFramesCodecTests {
    @Test func writesReplyLinesWithLineFeed() {
        var buffer = ByteBuffer()
        buffer.writeReply(ServerLine.published(seq: 9))
        buffer.writeReply(ProtocolError(.badRequest, "bad\r\nthing").replyLine)
        #expect(String(buffer: buffer) == "OK PUB 9\nERR 400 bad??thing\n")
    }

    @Test func writesAMessageFrameWithBinaryPayload() throws {
        let payload: [UInt8] = [0x00, 0x0A, 0x0D, 0x0A, 0xFF]
        let message = Message(
            seq: 3,
            topic: try Topic("hq.ohchr"),
            account: "ohchr",
            publishedAt: Date(timeIntervalSince1970: 0),
            headers: try Headers(parsing: ["id=x"]),
            payload: payload
        )
        var buffer = ByteBuffer()
        buffer.writeMessage(sid: "s1", message: message)
        let header = "MSG s1 3 hq.ohchr ohchr 1970-01-01T00:00:00.000000Z 5 id=x\n"
        #expect(Array(buffer.readableBytesView) == Array(header.utf8) + payload + [0x0A])
    }
}

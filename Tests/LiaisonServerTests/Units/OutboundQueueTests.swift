import NIOCore
import Testing

@testable import LiaisonServer

@Suite struct OutboundQueueTests {
    private func text(_ buffers: [ByteBuffer]) -> [String] { buffers.map { String(buffer: $0) } }

    @Test func framesWaitBehindAnUnansweredReplyAndLeaveInOrder() {
        var queue = OutboundQueue<ByteBuffer>()
        #expect(text(queue.append(ByteBuffer(string: "greeting"))) == ["greeting"])
        let pub1 = queue.reserve()
        let pub2 = queue.reserve()
        #expect(queue.append(ByteBuffer(string: "OK SUB a")).isEmpty)
        #expect(queue.append(ByteBuffer(string: "MSG a")).isEmpty)
        #expect(queue.waitingCount == 2)
        // The second reply is ready first: still nothing may leave.
        #expect(queue.fill(pub2, with: ByteBuffer(string: "OK PUB 2")).isEmpty)
        #expect(
            text(queue.fill(pub1, with: ByteBuffer(string: "OK PUB 1"))) == [
                "OK PUB 1", "OK PUB 2", "OK SUB a", "MSG a",
            ]
        )
        #expect(queue.isEmpty)
        #expect(queue.waitingCount == 0)
        #expect(text(queue.append(ByteBuffer(string: "PONG"))) == ["PONG"])
    }
}

@Suite struct OutboundQueueRefillTests {
    @Test func aTicketFilledTwiceReleasesNothingTheSecondTime() {
        var queue = OutboundQueue<String>()
        let ticket = queue.reserve()
        #expect(queue.fill(ticket, with: "OK PUB 1") == ["OK PUB 1"])
        // A late answer (the deadline already answered it) must not write a second reply.
        #expect(queue.fill(ticket, with: "ERR 503").isEmpty)
        #expect(queue.waitingCount == 0)
    }
}

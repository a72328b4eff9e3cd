import NIOCore
import Testing

@testable import LiaisonServer

@Suite struct OutboundQueueTests {
    private func text(_ buffers: [ByteBuffer]) -> [String] { buffers.map { String(buffer: $0) } }

    @Test func framesWaitBehindAnUnansweredReplyAndLeaveInOrder() {
        var queue = OutboundQueue()
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

import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import LiaisonClient

/// The reply matching of ``ClientChannelHandler``, driven through an `EmbeddedChannel`.
@Suite struct ClientChannelHandlerTests {
    private struct Harness {
        let channel: EmbeddedChannel
        let greeting: EventLoopFuture<Greeting>
        let messages: AsyncStream<ReceivedMessage>
        let unclaimed: NIOLockedValueBox<CircularBuffer<Reply>>

        init() throws {
            self.channel = EmbeddedChannel()
            let promise = self.channel.eventLoop.makePromise(of: Greeting.self)
            let (messages, continuation) = AsyncStream.makeStream(of: ReceivedMessage.self)
            self.unclaimed = NIOLockedValueBox(CircularBuffer<Reply>())
            try self.channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ServerFrameDecoder()))
            try self.channel.pipeline.syncOperations.addHandler(
                ClientChannelHandler(greeting: promise, messages: continuation, unclaimed: self.unclaimed)
            )
            self.greeting = promise.futureResult
            self.messages = messages
        }

        func receive(_ text: String) throws {
            try self.channel.writeInbound(ByteBuffer(string: text))
        }

        func send(_ text: String, replies: Int) throws -> [EventLoopFuture<Reply>] {
            let promises = (0..<replies).map { _ in self.channel.eventLoop.makePromise(of: Reply.self) }
            try self.channel.writeOutbound(ClientRequest.send(ByteBuffer(string: text), replies: promises))
            return promises.map(\.futureResult)
        }

        func written() throws -> String {
            var text = ""
            while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
                text += String(buffer: buffer)
            }
            return text
        }
    }

    @Test func greetingIsTheFirstLine() async throws {
        let harness = try Harness()
        try harness.receive("LIAISON 1 node=hq-1 max_payload=4096\n")
        let greeting = try await harness.greeting.get()
        #expect(greeting.node == "hq-1")
        #expect(greeting.maxPayload == 4096)
    }

    @Test func errInsteadOfGreetingFailsTheConnect() async throws {
        let harness = try Harness()
        try harness.receive("ERR 429 too many connections\n")
        await #expect(throws: ServerError(code: 429, text: "too many connections")) {
            try await harness.greeting.get()
        }
    }

    @Test func repliesAreMatchedInWriteOrder() async throws {
        let harness = try Harness()
        try harness.receive("LIAISON 1 node=hq-1 max_payload=4096\n")
        let first = try harness.send("PUB hq.a 1\nx\nPUB hq.b 1\ny\n", replies: 2)
        let second = try harness.send("PING\n", replies: 1)
        #expect(try harness.written() == "PUB hq.a 1\nx\nPUB hq.b 1\ny\nPING\n")
        try harness.receive("OK PUB 7\nERR 403 not allowed to publish to hq.b\nPONG\n")
        #expect(try await first[0].get().line == "OK PUB 7")
        #expect(try await first[1].get().line == "ERR 403 not allowed to publish to hq.b")
        #expect(try await second[0].get().line == "PONG")
    }

    @Test func serverPingIsAnsweredAndIsNotAReply() async throws {
        let harness = try Harness()
        try harness.receive("LIAISON 1 node=hq-1 max_payload=4096\n")
        let auth = try harness.send("AUTH ohchr t\n", replies: 1)
        _ = try harness.written()
        try harness.receive("PING\nOK AUTH ohchr\n")
        #expect(try harness.written() == "PONG\n")
        #expect(try await auth[0].get().line == "OK AUTH ohchr")
    }

    @Test func messagesBetweenRepliesGoToTheStream() async throws {
        let harness = try Harness()
        try harness.receive("LIAISON 1 node=hq-1 max_payload=4096\n")
        let sub = try harness.send("SUB s1 hq.>\n", replies: 1)
        try harness.receive("OK SUB s1\nMSG s1 3 hq.a ohchr 2025-03-01T09:30:00Z 2\nhi\n")
        #expect(try await sub[0].get().line == "OK SUB s1")
        var iterator = harness.messages.makeAsyncIterator()
        let message = try #require(await iterator.next())
        #expect(message.seq == 3)
        #expect(message.payload == Array("hi".utf8))
    }

    @Test func closeFailsWaitingCommandsAndEndsTheStream() async throws {
        let harness = try Harness()
        try harness.receive("LIAISON 1 node=hq-1 max_payload=4096\n")
        let pending = try harness.send("PUB hq.a 1\nx\n", replies: 1)
        try await harness.channel.close()
        await #expect {
            try await pending[0].get()
        } throws: { error in
            (error as? ClientError)?.code == .connectionClosed
        }
        var iterator = harness.messages.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }

    @Test func replyToRawBytesWaitsForNextReplyEvenAfterClose() async throws {
        let harness = try Harness()
        try harness.receive("LIAISON 1 node=hq-1 max_payload=4096\n")
        _ = try harness.send(String(repeating: "x", count: 100) + "\n", replies: 0)
        try harness.receive("ERR 413 control line longer than 64 bytes\n")
        try await harness.channel.close()
        #expect(harness.unclaimed.withLockedValue { $0.first?.line } == "ERR 413 control line longer than 64 bytes")
    }

    @Test func nextReplyTakesAnUnclaimedReplyFirst() async throws {
        let harness = try Harness()
        try harness.receive("LIAISON 1 node=hq-1 max_payload=4096\n")
        try harness.receive("ERR 400 unknown command \"FOO\"\n")
        let promise = harness.channel.eventLoop.makePromise(of: Reply.self)
        try harness.channel.writeOutbound(ClientRequest.nextReply(promise))
        #expect(try await promise.futureResult.get().line == "ERR 400 unknown command \"FOO\"")
        let later = harness.channel.eventLoop.makePromise(of: Reply.self)
        try harness.channel.writeOutbound(ClientRequest.nextReply(later))
        try harness.receive("OK BYE\n")
        #expect(try await later.futureResult.get().line == "OK BYE")
    }
}

import LiaisonClient
import Testing

@Suite struct ReplyParsingTests {
    @Test(arguments: [
        ("ERR 400 unknown command \"FOO\"", ServerError(code: 400, text: "unknown command \"FOO\"")),
        ("ERR 503 storage unavailable", ServerError(code: 503, text: "storage unavailable")),
        ("ERR 401", ServerError(code: 401, text: "")),
    ])
    func errorRepliesParse(line: String, expected: ServerError) {
        #expect(ServerError(replyLine: line) == expected)
    }

    @Test(arguments: ["OK PUB 1", "ERR abc text", "ERROR 400 x", "PONG"])
    func otherLinesAreNotErrors(line: String) {
        #expect(ServerError(replyLine: line) == nil)
    }

    @Test(arguments: [
        ("OK PUB 17", PublishAck(seq: 17)),
        ("OK PUB 17 DUP", PublishAck(seq: 17, duplicate: true)),
    ])
    func publishAcksParse(line: String, expected: PublishAck) {
        #expect(PublishAck(replyLine: line) == expected)
    }

    @Test(arguments: ["OK PUB", "OK PUB x", "OK PUB 17 NEW", "OK SUB s1", "ERR 403 forbidden"])
    func otherLinesAreNotPublishAcks(line: String) {
        #expect(PublishAck(replyLine: line) == nil)
    }

    @Test func greetingKeepsEveryField() throws {
        let greeting = try Greeting(line: "LIAISON 1 node=hq-geneva max_payload=1048576 version=0.1.0")
        #expect(greeting.version == 1)
        #expect(greeting.node == "hq-geneva")
        #expect(greeting.maxPayload == 1_048_576)
        #expect(greeting.fields["version"] == "0.1.0")
    }

    @Test(arguments: ["HELLO 1 node=x max_payload=1", "LIAISON 1 max_payload=1", "LIAISON 1 node=x max_payload=big"])
    func badGreetingsThrow(line: String) {
        #expect {
            _ = try Greeting(line: line)
        } throws: { error in
            (error as? ClientError)?.code == .badGreeting
        }
    }
}

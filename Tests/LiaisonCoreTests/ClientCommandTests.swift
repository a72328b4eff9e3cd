import Foundation
import LiaisonCore
import Testing

@Suite struct ClientCommandTests {
    @Test(arguments: [
        ("PING", ClientCommand.ping),
        ("ping", .ping),
        ("PiNg", .ping),
        ("PONG", .pong),
        ("quit", .quit),
        ("  QUIT  ", .quit),
        ("AUTH ohchr s3cr3t", .auth(account: "ohchr", token: "s3cr3t")),
        ("auth   un-women   tok=en/+", .auth(account: "un-women", token: "tok=en/+")),
        ("AUTH ohchr \u{A0}t\u{F6}k\u{1F511}", .auth(account: "ohchr", token: "\u{A0}t\u{F6}k\u{1F511}")),
        ("ACK s1 42", .ack(sid: "s1", seq: 42)),
        ("ack s1 9223372036854775807", .ack(sid: "s1", seq: Int64.max)),
        ("UNSUB s1", .unsubscribe(sid: "s1")),
        ("Unsub Field_Sub-2", .unsubscribe(sid: "Field_Sub-2")),
    ])
    func parsesSimpleCommands(line: String, expected: ClientCommand) throws {
        #expect(try ClientCommand.parse(line[...]) == expected)
    }

    @Test(arguments: [
        ("", "empty line"),
        ("   ", "empty line"),
        ("HELLO", "unknown command \"HELLO\""),
        ("PINGX", "unknown command"),
        ("PING extra", "PING takes no arguments"),
        ("PONG 1", "PONG takes no arguments"),
        ("QUIT now", "QUIT takes no arguments"),
        ("AUTH", "usage: AUTH"),
        ("AUTH ohchr", "usage: AUTH"),
        ("AUTH ohchr tok extra", "usage: AUTH"),
        ("AUTH OHCHR tok", "account \"OHCHR\" must match"),
        ("AUTH -x tok", "must match"),
        ("ACK s1", "usage: ACK"),
        ("ACK s1 1 2", "usage: ACK"),
        ("ACK s1 0", "seq \"0\" must be a decimal from 1"),
        ("ACK s1 -3", "must be a decimal"),
        ("ACK s1 +3", "must be a decimal"),
        ("ACK s1 9223372036854775808", "must be a decimal"),
        ("ACK s1 99999999999999999999", "must be a decimal"),
        ("ACK s.1 3", "sid \"s.1\" must match"),
        ("UNSUB", "usage: UNSUB"),
        ("UNSUB a b", "usage: UNSUB"),
        ("UNSUB " + String(repeating: "s", count: 65), "must match"),
        ("PING\t", "tab in line"),
        ("AUTH\tohchr tok", "tab in line"),
        ("PING\r", "control character 0x0D"),
        ("PING\u{0}", "control character 0x00"),
        ("QUIT\u{7F}", "control character 0x7F"),
        ("AUTH ohchr tok\u{85}en", "control character U+0085"),
        ("AUTH ohchr tok\u{9F}", "control character U+009F"),
    ])
    func rejectsBadLines(line: String, reason: String) {
        let error = #expect(throws: ProtocolError.self) { try ClientCommand.parse(line[...]) }
        #expect(error?.code == .badRequest)
        #expect(error?.closesConnection == false)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test(arguments: [
        ("PUB hq.ohchr 5", "hq.ohchr", 5, ""),
        ("pub hq.ohchr 0", "hq.ohchr", 0, ""),
        (
            "PUB  field.mm.sittwe.early-warning  1024  id=ew-7 prio=flash", "field.mm.sittwe.early-warning", 1024,
            "id=ew-7 prio=flash"
        ),
        ("PUB a 007 class=public x-source=field", "a", 7, "class=public x-source=field"),
    ])
    func parsesPublish(line: String, topic: String, size: Int, headers: String) throws {
        let command = try ClientCommand.parse(line[...])
        guard case .publish(let request) = command else {
            Issue.record("expected PUB, got \(command)")
            return
        }
        #expect(request.topic.value == topic)
        #expect(request.size == size)
        #expect(request.headers.wireText == headers)
        #expect(command.verb == "PUB")
    }

    @Test(arguments: [
        ("PUB", ErrorCode.badRequest, true, "size is missing"),
        ("PUB hq", .badRequest, true, "size is missing"),
        ("PUB hq x", .badRequest, true, "must be a decimal byte count"),
        ("PUB hq -1", .badRequest, true, "must be a decimal byte count"),
        ("PUB hq 1.5", .badRequest, true, "must be a decimal byte count"),
        ("PUB hq id=1", .badRequest, true, "must be a decimal byte count"),
        ("PUB hq 99999999999999999999", .badRequest, true, "must be a decimal byte count"),
        ("PUB hq 9999999999999999999", .payloadTooLarge, true, "too large"),
        ("PUB bad..topic\t 5", .badRequest, false, "tab in line"),
        ("PUB hq..x 5", .badRequest, false, "empty token"),
        ("PUB hq.* 5", .badRequest, false, "may hold only"),
        ("PUB hq 5 noequals", .badRequest, false, "expected key=value"),
        ("PUB hq 5 a=1 a=2", .badRequest, false, "duplicate key"),
        ("PUB hq 5 prio=later", .badRequest, false, "prio must be"),
        ("PUB hq 5 class=top-secret", .badRequest, false, "class must be"),
        ("PUB hq 5 id=" + String(repeating: "x", count: 129), .badRequest, false, "id must be 1-128 bytes"),
    ])
    func rejectsBadPublish(line: String, code: ErrorCode, fatal: Bool, reason: String) {
        let error = #expect(throws: ProtocolError.self) { try ClientCommand.parse(line[...]) }
        #expect(error?.code == code)
        #expect(error?.closesConnection == fatal)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test(arguments: [
        ("PUB hq 5", 5 as Int?),
        ("pub hq 0 id=x", 0),
        ("PUB bad..topic 12 junk", 12),
        ("PUB 5 6", 6),
        ("PUB hq 1048576", 1_048_576),
        ("SUB s1 hq.>", nil),
        ("PUBLISH hq 5", nil),
        ("", nil),
    ])
    func declaresPayloadSize(line: String, size: Int?) throws {
        #expect(try ClientCommand.declaredPayloadSize(ofLine: line[...], maxPayload: 1_048_576) == size)
    }

    @Test(arguments: [
        ("PUB hq", ErrorCode.badRequest),
        ("PUB", .badRequest),
        ("PUB hq -1", .badRequest),
        ("PUB hq 99999999999999999999", .badRequest),
        ("PUB hq 1048577", .payloadTooLarge),
        ("PUB hq 9999999999999999999", .payloadTooLarge),
    ])
    func declaredPayloadSizeErrorsAreFatal(line: String, code: ErrorCode) {
        let error = #expect(throws: ProtocolError.self) {
            try ClientCommand.declaredPayloadSize(ofLine: line[...], maxPayload: 1_048_576)
        }
        #expect(error?.code == code)
        #expect(error?.closesConnection == true)
    }
}

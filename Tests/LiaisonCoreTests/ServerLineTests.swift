import Foundation
import LiaisonCore
import Testing

@Suite struct ServerLineTests {
    @Test func greeting() {
        #expect(
            ServerLine.greeting(node: "hq-1", maxPayload: 1_048_576, extra: [("version", "0.1.0")])
                == "LIAISON 1 node=hq-1 max_payload=1048576 version=0.1.0"
        )
        #expect(ServerLine.greeting(node: "n", maxPayload: 10, extra: []) == "LIAISON 1 node=n max_payload=10")
    }

    @Test func messageHeaderWithAndWithoutHeaders() throws {
        var message = Message(
            seq: 1207,
            topic: try Topic("field.mm.sittwe.early-warning"),
            account: "ohchr",
            publishedAt: Date(timeIntervalSince1970: 1_795_946_400.123_456),
            payload: Array("tension rising".utf8)
        )
        #expect(
            ServerLine.messageHeader(sid: "s1", message: message)
                == "MSG s1 1207 field.mm.sittwe.early-warning ohchr 2026-11-29T10:00:00.123456Z 14"
        )
        message.headers = try Headers(parsing: ["prio=flash", "id=ew-1"])
        #expect(
            ServerLine.messageHeader(sid: "s1", message: message)
                == "MSG s1 1207 field.mm.sittwe.early-warning ohchr 2026-11-29T10:00:00.123456Z 14 prio=flash id=ew-1"
        )
    }

    @Test func replies() {
        #expect(ServerLine.authenticated(account: "ohchr") == "OK AUTH ohchr")
        #expect(ServerLine.published(seq: 42) == "OK PUB 42")
        #expect(ServerLine.published(seq: 42, duplicate: true) == "OK PUB 42 DUP")
        #expect(ServerLine.subscribed(sid: "s1") == "OK SUB s1")
        #expect(ServerLine.acknowledged(seq: 7) == "OK ACK 7")
        #expect(ServerLine.unsubscribed(sid: "s1") == "OK UNSUB s1")
        #expect(ServerLine.bye == "OK BYE")
        #expect(ServerLine.pong == "PONG")
    }
}

import LiaisonCore
import Testing

@Suite struct ProtocolErrorTests {
    @Test(arguments: [
        (ProtocolError(.badRequest, "unknown command \"FOO\""), "ERR 400 unknown command \"FOO\""),
        (ProtocolError(.payloadTooLarge, "too big", closesConnection: true), "ERR 413 too big"),
        (ProtocolError(.unavailable, ""), "ERR 503 storage unavailable"),
        (ProtocolError(.forbidden, "line\r\nbreak\ttab\u{0}nul\u{85}c1"), "ERR 403 line??break?tab?nul?c1"),
        (ProtocolError(.notFound, "caf\u{E9} \u{1F600}"), "ERR 404 caf\u{E9} \u{1F600}"),
    ])
    func replyLine(error: ProtocolError, line: String) {
        #expect(error.replyLine == line)
    }

    @Test func longMessagesAreCutAtACharacterBoundary() {
        let message = "x" + String(repeating: "\u{E9}", count: 600)
        let line = ProtocolError(.badRequest, message).replyLine
        #expect(line.hasPrefix("ERR 400 x\u{E9}"))
        #expect(line.hasSuffix("\u{E9}..."))
        #expect(line.utf8.count == "ERR 400 ".utf8.count + 1 + 255 * 2 + 3)
    }

    @Test func quotedInputIsShortened() {
        let error = #expect(throws: ProtocolError.self) {
            try ClientCommand.parse("VERB\(String(repeating: "x", count: 200))"[...])
        }
        #expect(error?.message == "unknown command \"VERB\(String(repeating: "x", count: 60))...\"")
    }

    @Test func everyCodeHasAReasonPhraseAndThreeDigits() {
        for code in ErrorCode.allCases {
            #expect(!code.reasonPhrase.isEmpty)
            #expect((100...599).contains(code.rawValue))
        }
    }
}

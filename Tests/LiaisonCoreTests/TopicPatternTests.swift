import LiaisonCore
import Testing

@Suite struct TopicPatternTests {
    @Test(arguments: [
        ("hq.ohchr", [TopicPattern.Token.literal("hq"), .literal("ohchr")]),
        ("*", [.single]),
        (">", [.multi]),
        ("hq.>", [.literal("hq"), .multi]),
        ("field.*.*.early-warning", [.literal("field"), .single, .single, .literal("early-warning")]),
        ("*.*.>", [.single, .single, .multi]),
    ])
    func parsesTokens(text: String, tokens: [TopicPattern.Token]) throws {
        let pattern = try TopicPattern(text)
        #expect(pattern.tokens == tokens)
        #expect(pattern.value == text)
        #expect(pattern.isLiteral == !text.contains(where: { $0 == "*" || $0 == ">" }))
    }

    @Test(arguments: [
        ("", "pattern is empty"),
        (".", "empty token"),
        ("hq.", "empty token"),
        (".hq", "empty token"),
        ("hq..>", "empty token"),
        ("a*", "must be whole tokens"),
        ("a.b>", "must be whole tokens"),
        ("*a.b", "must be whole tokens"),
        ("a.**", "must be whole tokens"),
        (">.a", "before its last token"),
        ("hq.>.x", "before its last token"),
        (">.>", "before its last token"),
        ("hq ohchr", "may hold only"),
        ("caf\u{E9}.>", "may hold only"),
        (String(repeating: "a", count: 256), "longer than 255 bytes"),
    ])
    func rejectsInvalidPatterns(text: String, reason: String) {
        let error = #expect(throws: ProtocolError.self) { try TopicPattern(text) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test func acceptsTheLongestPattern() throws {
        let text = String(repeating: "a", count: 253) + ".>"
        #expect(try TopicPattern(text).value.utf8.count == 255)
    }

    @Test(arguments: [
        ("hq.>", "hq.ohchr", true),
        ("hq.>", "hq.ohchr.guidance-note", true),
        ("hq.>", "hq", false),
        ("hq.>", "hqx.ohchr", false),
        ("hq.>", "field.hq.ohchr", false),
        (">", "hq", true),
        (">", "a.b.c", true),
        ("*", "hq", true),
        ("*", "hq.ohchr", false),
        ("hq.*", "hq.ohchr", true),
        ("hq.*", "hq", false),
        ("hq.*", "hq.ohchr.extra", false),
        ("*.ohchr", "hq.ohchr", true),
        ("*.ohchr", "hq.ohchrx", false),
        ("*.ohchr", "hq.ohch", false),
        ("field.*.*.early-warning", "field.mm.sittwe.early-warning", true),
        ("field.*.*.early-warning", "field.mm.early-warning", false),
        ("field.*.*.early-warning", "field.mm.sittwe.x.early-warning", false),
        ("field.*.*.early-warning", "field.mm.sittwe.early-warnings", false),
        ("*.*.>", "a.b", false),
        ("*.*.>", "a.b.c", true),
        ("*.b.>", "a.b.c.d", true),
        ("*.b.>", "a.c.c.d", false),
        ("hq.ohchr", "hq.ohchr", true),
        ("hq.ohchr", "hq.ohchr.x", false),
        ("hq.ohchr", "hq.ohch", false),
        ("hq.ohchr", "HQ.ohchr", false),
        ("HQ.*", "hq.ohchr", false),
        ("a.*.c", "a.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.c", true),
    ])
    func matches(pattern: String, topic: String, expected: Bool) throws {
        #expect(try TopicPattern(pattern).matches(Topic(topic)) == expected)
    }

    @Test(arguments: [
        ("field.mm.>", "field.mm.", "field.mm.%"),
        ("field.*.*.early-warning", "field.", "field.%"),
        (">", "", "%"),
        ("*.x", "", "%"),
        ("hq.ohchr", "hq.ohchr", "hq.ohchr%"),
        ("un_women.*", "un_women.", "un\\_women.%"),
        ("a_b.c_d.>", "a_b.c_d.", "a\\_b.c\\_d.%"),
    ])
    func literalPrefixes(pattern: String, prefix: String, like: String) throws {
        let parsed = try TopicPattern(pattern)
        #expect(parsed.literalPrefix == prefix)
        #expect(parsed.sqlLikePrefix == like)
    }

    @Test func equalityFollowsTheText() throws {
        let patterns: Set = [try TopicPattern("hq.>"), try TopicPattern("hq.>"), try TopicPattern("hq.*")]
        #expect(patterns.count == 2)
    }
}

import LiaisonCore
import Testing

@Suite struct TopicTests {
    @Test(arguments: [
        "hq",
        "hq.ohchr.guidance-note",
        "field.mm.sittwe.early-warning",
        "A.b_C.d-E.0",
        "UNHCR.Field",
        String(repeating: "a", count: 255),
        String(repeating: "ab.", count: 84) + "abc",  // 255 bytes of short tokens
    ])
    func acceptsValidTopics(text: String) throws {
        let topic = try Topic(text)
        #expect(topic.value == text)
        #expect(topic.description == text)
    }

    @Test(arguments: [
        ("", "topic is empty"),
        (".", "empty token"),
        ("hq.", "empty token"),
        (".hq", "empty token"),
        ("hq..ohchr", "empty token"),
        ("hq.*", "may hold only"),
        ("hq.>", "may hold only"),
        ("hq ohchr", "may hold only"),
        ("hq\tohchr", "may hold only"),
        ("caf\u{E9}", "may hold only"),
        ("hq/ohchr", "may hold only"),
        (String(repeating: "a", count: 256), "longer than 255 bytes"),
    ])
    func rejectsInvalidTopics(text: String, reason: String) {
        let error = #expect(throws: ProtocolError.self) { try Topic(text) }
        #expect(error?.code == .badRequest)
        #expect(error?.closesConnection == false)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test func substringInitializerCopiesOnlyTheSlice() throws {
        let line = "PUB hq.ohchr 5"
        let token = line.split(separator: " ")[1]
        #expect(try Topic(token).value == "hq.ohchr")
    }

    @Test func splitsIntoTokens() throws {
        #expect(try Topic("field.mm.sittwe").tokens == ["field", "mm", "sittwe"])
        #expect(try Topic("hq").tokens == ["hq"])
    }

    @Test func isCaseSensitive() throws {
        #expect(try Topic("HQ") != Topic("hq"))
    }

    @Test func ordersByBytes() throws {
        let sorted = try ["hq.b", "HQ.a", "hq.a", "field.z"].map { try Topic($0) }.sorted()
        #expect(sorted.map(\.value) == ["HQ.a", "field.z", "hq.a", "hq.b"])
    }
}

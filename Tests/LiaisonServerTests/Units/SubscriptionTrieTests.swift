import LiaisonCore
import Testing

@testable import LiaisonServer

@Suite struct SubscriptionTrieTests {
    private func matches(_ trie: SubscriptionTrie<Int, String>, _ topic: String) throws -> [String] {
        var out: [String] = []
        trie.forEachMatch(try Topic(topic)) { _, value in out.append(value) }
        return out.sorted()
    }

    @Test func matchesLikeThePatternsThemselves() throws {
        let patterns = [
            "hq.>", "field.*.*.early-warning", "field.mm.>", "field.mm.sittwe.report", "*", ">", "*.announce",
            "field.*.sittwe.*",
        ]
        var trie = SubscriptionTrie<Int, String>()
        for (i, p) in patterns.enumerated() { trie.insert(try TopicPattern(p), key: i, value: p) }
        #expect(trie.count == patterns.count)
        let topics = [
            "hq", "hq.ohchr", "hq.ohchr.guidance-note.rec-01", "field.mm.sittwe.report",
            "field.mm.sittwe.early-warning",
            "field.ba.sarajevo.early-warning", "net.announce", "net", "field.mm", "field.mm.sittwe.report.extra",
        ]
        for topic in topics {
            let expected = try patterns.filter { try TopicPattern($0).matches(try Topic(topic)) }.sorted()
            #expect(try matches(trie, topic) == expected, "topic \(topic)")
        }
    }

    @Test func removePrunesAndLeavesOthers() throws {
        var trie = SubscriptionTrie<Int, String>()
        trie.insert(try TopicPattern("a.b.>"), key: 1, value: "one")
        trie.insert(try TopicPattern("a.b.>"), key: 2, value: "two")
        trie.insert(try TopicPattern("a.*.c"), key: 3, value: "three")
        #expect(try matches(trie, "a.b.c") == ["one", "three", "two"])
        #expect(trie.remove(try TopicPattern("a.b.>"), key: 1))
        #expect(!trie.remove(try TopicPattern("a.b.>"), key: 1))
        #expect(!trie.remove(try TopicPattern("a.b.c"), key: 3))
        #expect(try matches(trie, "a.b.c") == ["three", "two"])
        #expect(trie.remove(try TopicPattern("a.*.c"), key: 3))
        #expect(trie.remove(try TopicPattern("a.b.>"), key: 2))
        #expect(trie.count == 0)
        #expect(try matches(trie, "a.b.c").isEmpty)
    }
}

import LiaisonCore
import Testing

@Suite struct ContainmentTests {
    @Test(arguments: [
        // The examples.
        ("a.*.c", "a.>", true),
        ("a.>", "a.b.*", false),
        // Wildcards against wildcards.
        ("*", ">", true),
        (">", "*", false),
        (">", ">", true),
        ("a.>", "a.>", true),
        ("a.b.>", "a.>", true),
        ("a.>", "a.b.>", false),
        ("a.*", "a.>", true),
        ("a.*.*", "a.>", true),
        ("a.>", "a.*", false),
        ("a.*", "a.*", true),
        ("a.*", "*.*", true),
        ("*.*", "a.*", false),
        ("a.*", "a.b", false),
        // Literals.
        ("a.b", "a.b", true),
        ("a.b", "a.*", true),
        ("a.b", "a.>", true),
        ("a.b", "a.c", false),
        ("a", "a.>", false),
        ("a.b.c", "a.*", false),
        ("a.b", "a.b.c", false),
        ("hq.ohchr.guidance-note", "hq.>", true),
        ("field.mm.*.early-warning", "field.mm.>", true),
        ("field.*.sittwe.>", "field.mm.>", false),
    ])
    func containment(pattern: String, other: String, expected: Bool) throws {
        let mine = try TopicPattern(pattern)
        let theirs = try TopicPattern(other)
        #expect(mine.isContained(in: theirs) == expected, "\(pattern) ⊆ \(other)")
        // Containment implies overlap (every pattern selects at least one topic).
        if expected {
            #expect(mine.overlaps(theirs))
        }
    }

    @Test(arguments: [
        ("a.*", "a.secret.>", false),
        ("a.>", "a.secret.>", true),
        ("a.b", "a.c", false),
        ("a.b", "a.*", true),
        ("*.b", "a.*", true),
        ("*.b", "a.c", false),
        (">", "a.b.c", true),
        ("a", "a.>", false),
        ("a.*.c", "a.b.>", true),
        ("a.*.c", "a.b.d", false),
        ("a.b.c", "a.b", false),
        ("*", "*", true),
        ("*", "*.*", false),
    ])
    func overlap(pattern: String, other: String, expected: Bool) throws {
        let mine = try TopicPattern(pattern)
        let theirs = try TopicPattern(other)
        #expect(mine.overlaps(theirs) == expected, "\(pattern) ∩ \(other)")
        #expect(theirs.overlaps(mine) == expected, "overlap is symmetric: \(other) ∩ \(pattern)")
    }

    /// Cross-checks both relations against brute-force matching over a small universe of topics.
    @Test func agreesWithMatchingOnEveryTopicOfASmallUniverse() throws {
        let tokens = ["a", "b", "c"]
        var topics: [Topic] = []
        var frontier = [""]
        for _ in 1...4 {
            frontier = frontier.flatMap { prefix in tokens.map { prefix.isEmpty ? $0 : prefix + "." + $0 } }
            topics += try frontier.map { try Topic($0) }
        }
        let texts = [">", "*", "a", "a.>", "a.*", "*.b", "a.b", "*.*", "a.*.c", "a.b.>", "*.>", "*.*.>", "b.*.>"]
        let patterns = try texts.map { try TopicPattern($0) }
        for p in patterns {
            for q in patterns {
                // Within four tokens of a three-letter alphabet, every pattern here shows its difference.
                let pTopics = topics.filter { p.matches($0) }
                let contained = pTopics.allSatisfy { q.matches($0) }
                let overlapping = pTopics.contains { q.matches($0) }
                #expect(p.isContained(in: q) == contained, "\(p) ⊆ \(q)")
                #expect(p.overlaps(q) == overlapping, "\(p) ∩ \(q)")
            }
        }
    }
}

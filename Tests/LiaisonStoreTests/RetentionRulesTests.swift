import LiaisonCore
import LiaisonStore
import Testing

/// ``RetentionRules`` and ``PurgeRecord`` decided by hand, without a database (docs/AUDIT.md, "Retention").
struct RetentionRulesTests {
    static let day = RetentionPolicy.microsecondsPerDay
    static let now: Int64 = 1_000 * day

    static func policy(_ pattern: String, _ days: Int) throws -> RetentionPolicy {
        RetentionPolicy(pattern: try TopicPattern(pattern), keepDays: days)
    }

    static func decide(
        _ rules: RetentionRules,
        seq: Int64 = 1,
        _ topic: String,
        ageDays: Int64
    ) throws
        -> RetentionDecision
    {
        rules.decide(
            seq: seq,
            topic: try Topic(topic),
            publishedMicroseconds: now - ageDays * day,
            nowMicroseconds: now
        )
    }

    @Test func aTopicNoPolicyMatchesIsKeptForEver() throws {
        let rules = RetentionRules(policies: [try Self.policy("field.>", 30)], holds: [])
        #expect(try Self.decide(rules, "hq.ohchr.note", ageDays: 900) == .keepNoPolicy)
        #expect(try Self.decide(RetentionRules(policies: [], holds: []), "field.fr.x", ageDays: 900) == .keepNoPolicy)
    }

    @Test func aMessageIsPurgedOnlyOnceItIsPastTheKeep() throws {
        let field = try Self.policy("field.>", 400)
        let rules = RetentionRules(policies: [field], holds: [])
        #expect(try Self.decide(rules, "field.fr.x", ageDays: 399) == .keepRecent(field))
        #expect(try Self.decide(rules, "field.fr.x", ageDays: 400) == .purge(field))
        #expect(try Self.decide(rules, "field.fr.x", ageDays: 401) == .purge(field))
    }

    @Test func theLongestKeepWinsWhereTheyOverlap() throws {
        let all = try Self.policy(">", 30)
        let field = try Self.policy("field.>", 400)
        let france = try Self.policy("field.fr.*", 7)
        for order in [[all, field, france], [france, field, all], [field, france, all]] {
            let rules = RetentionRules(policies: order, holds: [])
            #expect(rules.policy(for: try Topic("field.fr.x")) == field)
            #expect(rules.policy(for: try Topic("hq.x")) == all)
            #expect(try Self.decide(rules, "field.fr.x", ageDays: 100) == .keepRecent(field))
            #expect(try Self.decide(rules, "hq.x", ageDays: 31) == .purge(all))
        }
        #expect(RetentionRules(policies: [all, field, france], holds: []).shortestKeepDays == 7)
    }

    @Test func aHoldInForceOverridesEveryPolicy() throws {
        let field = try Self.policy("field.>", 30)
        let bySeq = RetentionHold(id: 1, pattern: nil, seqs: 10...20, reason: "case 1", placedAtMicroseconds: 0)
        let byPattern = RetentionHold(
            id: 2,
            pattern: try TopicPattern("field.de.>"),
            seqs: nil,
            reason: "case 2",
            placedAtMicroseconds: 0
        )
        let both = RetentionHold(
            id: 3,
            pattern: try TopicPattern("field.it.>"),
            seqs: 100...200,
            reason: "case 3",
            placedAtMicroseconds: 0
        )
        let rules = RetentionRules(policies: [field], holds: [bySeq, byPattern, both])
        #expect(try Self.decide(rules, seq: 15, "field.fr.x", ageDays: 90) == .keepHeld(field, holdID: 1))
        #expect(try Self.decide(rules, seq: 21, "field.fr.x", ageDays: 90) == .purge(field))
        #expect(try Self.decide(rules, seq: 21, "field.de.x", ageDays: 90) == .keepHeld(field, holdID: 2))
        #expect(try Self.decide(rules, seq: 150, "field.it.x", ageDays: 90) == .keepHeld(field, holdID: 3))
        #expect(try Self.decide(rules, seq: 250, "field.it.x", ageDays: 90) == .purge(field))
        #expect(try Self.decide(rules, seq: 150, "field.es.x", ageDays: 90) == .purge(field))
    }

    @Test func aReleasedOrLaterHoldDoesNotCount() throws {
        let field = try Self.policy("field.>", 30)
        let released = RetentionHold(
            id: 1,
            pattern: nil,
            seqs: 1...10,
            reason: "r",
            placedAtMicroseconds: 0,
            releasedBy: "alice",
            releasedAtMicroseconds: Self.now - 1
        )
        let future = RetentionHold(id: 2, pattern: nil, seqs: 1...10, reason: "f", placedAtMicroseconds: Self.now + 1)
        let rules = RetentionRules(policies: [field], holds: [released, future])
        #expect(try Self.decide(rules, seq: 5, "field.fr.x", ageDays: 90) == .purge(field))
        #expect(released.inForce(atMicroseconds: Self.now - 2))
        #expect(!released.inForce(atMicroseconds: Self.now - 1))
    }

    static func leaf(_ seq: Int64, topic: String = "field.fr.x", ageDays: Int64 = 500) -> AuditLeaf {
        AuditLeaf(
            seq: seq,
            topic: topic,
            account: "fr",
            publishedMicroseconds: now - ageDays * day,
            headers: [(key: "k", value: "v=1 2")],
            payload: Array("payload".utf8)
        )
    }

    @Test func aLeafEncodingParsesBack() throws {
        let leaf = Self.leaf(7)
        let parsed = try #require(AuditLeaf(encoding: leaf.encoding))
        #expect(parsed == leaf)
        #expect(parsed.topic == "field.fr.x" && parsed.seq == 7)
        #expect(AuditLeaf(encoding: leaf.encoding + [0]) == nil)
        #expect(AuditLeaf(encoding: Array(leaf.encoding.dropLast())) == nil)
    }

    static func record(_ leaf: AuditLeaf, pattern: String = "field.>", keepDays: Int = 400) -> PurgeRecord {
        PurgeRecord(
            purgeID: 1,
            purgedAtMicroseconds: now,
            pattern: pattern,
            keepDays: keepDays,
            encoding: leaf.encoding
        )
    }

    @Test func aPurgeRecordIsCheckedAgainstItsLeafPolicyAndHolds() throws {
        let leaf = Self.leaf(7)
        let sealed = SealedLeaf(seq: 7, index: 0, hash: leaf.hash)
        #expect(Self.record(leaf).problem(for: sealed, holds: []) == nil)
        // Another message's encoding, or one changed: does not hash to the sealed leaf.
        #expect(Self.record(Self.leaf(8)).problem(for: sealed, holds: [])?.contains("does not match") == true)
        #expect(
            Self.record(Self.leaf(7, topic: "field.fr.y")).problem(for: sealed, holds: [])?.contains("does not match")
                == true
        )
        // A policy that does not match the topic, or whose keep had not passed.
        #expect(
            Self.record(leaf, pattern: "hq.>").problem(for: sealed, holds: [])?.contains("does not match its topic")
                == true
        )
        #expect(Self.record(leaf, keepDays: 501).problem(for: sealed, holds: [])?.contains("before its policy") == true)
        // A hold in force at the purge.
        let hold = RetentionHold(id: 4, pattern: nil, seqs: 5...9, reason: "case", placedAtMicroseconds: 0)
        #expect(Self.record(leaf).problem(for: sealed, holds: [hold])?.contains("hold 4") == true)
        var released = hold
        released.releasedBy = "alice"
        released.releasedAtMicroseconds = Self.now
        #expect(Self.record(leaf).problem(for: sealed, holds: [released]) == nil)
    }
}

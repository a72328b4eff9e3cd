import LiaisonCore
import Testing

@Suite struct PermissionsTests {
    private static func permissions(allowed: [String], denied: [String]) throws -> Permissions {
        let allow = try allowed.map { AccessRule(action: .subscribe, effect: .allow, pattern: try TopicPattern($0)) }
        let deny = try denied.map { AccessRule(action: .subscribe, effect: .deny, pattern: try TopicPattern($0)) }
        return Permissions(rules: allow + deny, clearance: .internal)
    }

    @Test(arguments: [
        // (allowed, denied, requested, expected)
        (["a.>"], [String](), "a.*.c", true),
        (["a.b.*"], [], "a.>", false),
        (["a.>"], [], ">", false),
        (["a.>"], ["a.secret.>"], "a.*", true),
        (["a.>"], ["a.secret.>"], "a.>", false),
        (["a.>"], ["a.secret.>"], "a.*.>", false),
        (["a.>"], ["a.secret.>"], "a.public.>", true),
        (["a.>"], ["a.*"], "a.*", false),
        (["a.>"], ["a.*"], "a.b.c", true),
        (["a.*"], ["a.c"], "a.b", true),
        (["a.*"], ["a.c"], "a.*", false),
        (["a.*"], ["a.c"], "a.c", false),
        (["hq.>", "field.mm.>"], [], "field.mm.*.early-warning", true),
        (["hq.>", "field.mm.>"], [], "field.*.*.early-warning", false),
        (["hq.>", "field.mm.>"], [], "*.>", false),
        ([">"], [], ">", true),
        ([], [], "a", false),
        ([">"], [">"], "a", false),
    ])
    func subscribe(allowed: [String], denied: [String], requested: String, expected: Bool) throws {
        let permissions = try Self.permissions(allowed: allowed, denied: denied)
        let decision = permissions.decide(subscribe: try TopicPattern(requested))
        #expect(decision.allowed == expected, "\(decision)")
        #expect(permissions.maySubscribe(try TopicPattern(requested)) == expected)
    }

    @Test(arguments: [
        (["a.>"], ["a.secret.>"], "a.news", true),
        (["a.>"], ["a.secret.>"], "a.secret.x", false),
        (["a.>"], ["a.secret.>"], "b.news", false),
        (["a.*"], ["a.c"], "a.c", false),
    ])
    func readAndPublishUseTopicMatching(allowed: [String], denied: [String], topic: String, expected: Bool) throws {
        let readRules = try Self.permissions(allowed: allowed, denied: denied)
        #expect(readRules.mayRead(try Topic(topic)) == expected)
        // The same patterns as publish rules decide a PUB the same way, and do not grant reading.
        let publishRules = Permissions(
            rules: readRules.rules.map { AccessRule(action: .publish, effect: $0.effect, pattern: $0.pattern) },
            clearance: .internal
        )
        #expect(publishRules.mayPublish(try Topic(topic)) == expected)
        #expect(!publishRules.mayRead(try Topic(topic)))
        #expect(!readRules.mayPublish(try Topic(topic)))
    }

    @Test func decisionsNameTheDecidingRule() throws {
        let permissions = try Self.permissions(allowed: ["a.>"], denied: ["a.secret.>"])
        let refused = permissions.decide(subscribe: try TopicPattern("a.>"))
        #expect(refused.rule == AccessRule(action: .subscribe, effect: .deny, pattern: try TopicPattern("a.secret.>")))
        #expect(refused.reason.contains("deny sub a.secret.>"))
        let granted = permissions.decide(read: try Topic("a.news"))
        #expect(granted.rule?.description == "allow sub a.>")
        let unmatched = permissions.decide(publish: try Topic("a.news"))
        #expect(!unmatched.allowed)
        #expect(unmatched.rule == nil)
        #expect(unmatched.reason.contains("not matched by any allow pub rule"))
    }

    @Test(arguments: Classification.allCases)
    func clearanceCoversItsLevelAndBelow(clearance: Classification) {
        let permissions = Permissions(rules: [], clearance: clearance)
        for level in Classification.allCases {
            #expect(permissions.isCleared(for: level) == (level <= clearance), "\(level) under \(clearance)")
        }
    }

    @Test func everythingAllowsAllAndNothingAllowsNone() throws {
        let topic = try Topic("field.mm.sittwe.early-warning")
        #expect(Permissions.everything.mayPublish(topic))
        #expect(Permissions.everything.maySubscribe(try TopicPattern(">")))
        #expect(Permissions.everything.isCleared(for: .strictlyConfidential))
        #expect(!Permissions.nothing.mayPublish(topic))
        #expect(!Permissions.nothing.mayRead(topic))
        #expect(!Permissions.nothing.isCleared(for: .internal))
    }
}

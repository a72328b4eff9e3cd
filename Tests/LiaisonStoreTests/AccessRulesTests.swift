import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

@Suite struct AccessRulesTests {
    private static func rule(_ action: AccessAction, _ effect: AccessEffect, _ pattern: String) throws -> AccessRule {
        AccessRule(action: action, effect: effect, pattern: try TopicPattern(pattern))
    }

    @Test func newAccountsGetTheDocumentedDefaults() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let accounts = Accounts()
        let rules = AccessRules()
        try accounts.add(Account(name: "ohchr", kind: .entity), on: c)
        try accounts.add(Account(name: "ohchr-mm", kind: .office, parent: "ohchr", country: "mm"), on: c)
        try accounts.add(Account(name: "audit", kind: .entity, role: .admin), on: c)

        #expect(
            Set(try rules.rules(account: "ohchr", on: c)) == [
                try Self.rule(.publish, .allow, "hq.ohchr.>"), try Self.rule(.publish, .allow, "net.>"),
                try Self.rule(.subscribe, .allow, "hq.>"), try Self.rule(.subscribe, .allow, "net.>"),
                try Self.rule(.subscribe, .allow, "field.>"),
            ]
        )
        let office = try #require(try rules.permissions(account: "ohchr-mm", on: c))
        #expect(office.clearance == .internal)
        #expect(office.mayPublish(try Topic("field.mm.sittwe.report")))
        #expect(!office.mayPublish(try Topic("field.co.bogota.report")))
        #expect(!office.mayPublish(try Topic("hq.ohchr.guidance")))
        #expect(office.maySubscribe(try TopicPattern("field.mm.>")))
        #expect(!office.maySubscribe(try TopicPattern("field.>")))
        #expect(office.maySubscribe(try TopicPattern("hq.*.guidance-note")))

        let admin = try #require(try rules.permissions(account: "audit", on: c))
        #expect(admin == Permissions.everything)
        #expect(try rules.permissions(account: "ghost", on: c) == nil)

        // Import gives defaults to new accounts only, and keeps the rules of existing ones.
        try rules.revoke(account: "ohchr", rule: try Self.rule(.publish, .allow, "net.>"), on: c)
        let result = try accounts.importAll(
            [Account(name: "ohchr", kind: .entity), Account(name: "undp", kind: .entity)],
            on: c
        )
        #expect(result.inserted == 1)
        #expect(try rules.rules(account: "ohchr", on: c).count == 4)
        #expect(try rules.rules(account: "undp", on: c).contains(try Self.rule(.publish, .allow, "hq.undp.>")))
    }

    @Test func grantRevokeAndListWithDenyWinning() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let rules = AccessRules()
        try Accounts().add(Account(name: "unhcr", kind: .entity), on: c)
        let deny = try Self.rule(.subscribe, .deny, "field.mm.protection.>")
        try rules.grant(account: "unhcr", rule: deny, on: c)
        try rules.grant(account: "unhcr", rule: deny, on: c)  // idempotent
        #expect(try rules.rules(account: "unhcr", on: c).filter { $0 == deny }.count == 1)

        let permissions = try #require(try rules.permissions(account: "unhcr", on: c))
        #expect(!permissions.maySubscribe(try TopicPattern("field.mm.>")))
        #expect(permissions.maySubscribe(try TopicPattern("field.mm.sittwe.>")))
        #expect(!permissions.mayRead(try Topic("field.mm.protection.case-1")))

        let missing = #expect(throws: StoreError.self) {
            try rules.grant(account: "ghost", rule: deny, on: c)
        }
        #expect(missing?.code == .notFound)

        try rules.revoke(account: "unhcr", rule: deny, on: c)
        let gone = #expect(throws: StoreError.self) { try rules.revoke(account: "unhcr", rule: deny, on: c) }
        #expect(gone?.code == .notFound)
        #expect(try rules.permissions(account: "unhcr", on: c)?.maySubscribe(try TopicPattern("field.mm.>")) == true)

        try Accounts().add(Account(name: "undp", kind: .entity), on: c)
        let all = try rules.list(account: nil, on: c)
        #expect(Set(all.map(\.account)) == ["unhcr", "undp"])
        #expect(try rules.list(account: "undp", on: c).allSatisfy { $0.account == "undp" })
    }

    @Test func versionMovesOnEveryChangeThatDecidesAccess() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let rules = AccessRules()
        let accounts = Accounts()
        var last = try rules.version(on: c)
        func expectMoved(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let now = try rules.version(on: c)
            #expect(now != last, "\(what) should move the version", sourceLocation: sourceLocation)
            last = now
        }
        try accounts.add(Account(name: "iom", kind: .entity), on: c)
        try expectMoved("add")
        try rules.grant(account: "iom", rule: try Self.rule(.publish, .deny, "hq.iom.secret.>"), on: c)
        try expectMoved("grant")
        try rules.revoke(account: "iom", rule: try Self.rule(.publish, .deny, "hq.iom.secret.>"), on: c)
        try expectMoved("revoke")
        try accounts.setClearance(.confidential, name: "iom", on: c)
        try expectMoved("clearance")
        try accounts.setEnabled(false, name: "iom", on: c)
        try expectMoved("disable")

        // A change that decides nothing leaves it alone.
        try c.query("UPDATE accounts SET display_name = 'IOM' WHERE name = 'iom'")
        #expect(try rules.version(on: c) == last)
    }

    @Test func clearanceIsStoredAndDefaultsByRole() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let accounts = Accounts()
        try accounts.add(Account(name: "who", kind: .entity), on: c)
        try accounts.add(Account(name: "root", kind: .entity, role: .admin), on: c)
        try accounts.add(Account(name: "ilo", kind: .entity, clearance: .public), on: c)
        #expect(try accounts.find("who", on: c)?.clearance == .internal)
        #expect(try accounts.find("root", on: c)?.clearance == .strictlyConfidential)
        #expect(try accounts.find("ilo", on: c)?.clearance == .public)
        #expect(try accounts.setClearance(.confidential, name: "who", on: c) == .internal)
        #expect(try accounts.find("who", on: c)?.clearance == .confidential)
        let missing = #expect(throws: StoreError.self) { try accounts.setClearance(.public, name: "ghost", on: c) }
        #expect(missing?.code == .notFound)
    }

    @Test func migrationGivesExistingAccountsTheDefaults() throws {
        let db = try TestDatabase.create(migrate: false)
        defer { db.drop() }
        let c = try db.connect()
        let migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
        _ = try Migrator().migrate(migrations.filter { $0.version < 5 }, on: c)
        try c.execute(
            script: """
                INSERT INTO accounts (name, kind, role) VALUES ('unicef', 'entity', 'member'), ('ops', 'entity', 'admin');
                INSERT INTO accounts (name, kind, parent, country) VALUES ('unicef-ba', 'office', 'unicef', 'ba');
                """
        )
        _ = try Migrator().migrate(migrations, on: c)
        let accounts = Accounts()
        for name in ["unicef", "ops", "unicef-ba"] {
            let account = try #require(try accounts.find(name, on: c))
            #expect(
                Set(try AccessRules().rules(account: name, on: c)) == Set(AccessRules.defaults(for: account)),
                "\(name)"
            )
        }
        #expect(try accounts.find("ops", on: c)?.clearance == .strictlyConfidential)
        #expect(try accounts.find("unicef-ba", on: c)?.clearance == .internal)
    }
}

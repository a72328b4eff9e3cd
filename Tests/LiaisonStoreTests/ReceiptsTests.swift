import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// Receipts derived in SQL (migration 0008) from ranges, entitlement in SQL against
/// `Permissions`, and the auditors' role.
@Suite struct ReceiptsTests {
    private static let t0 = Date(timeIntervalSince1970: 1_764_633_600)

    private static func setUp(_ c: Connection) throws -> (alert: Int64, secret: Int64, other: Int64) {
        let accounts = Accounts()
        try accounts.add(Account(name: "undp", kind: .entity), on: c)
        try accounts.add(Account(name: "ohchr", kind: .entity), on: c)
        try accounts.add(Account(name: "mm-a", kind: .office, parent: "undp", country: "mm"), on: c)
        try accounts.add(Account(name: "mm-b", kind: .office, parent: "undp", country: "mm"), on: c)
        try accounts.add(Account(name: "mm-c", kind: .office, parent: "undp", country: "mm", enabled: false), on: c)
        try accounts.add(Account(name: "th-a", kind: .office, parent: "undp", country: "th"), on: c)
        try accounts.add(Account(name: "root", kind: .entity, role: .admin), on: c)
        var flash = Headers()
        try flash.set("prio", "flash")
        var secret = Headers()
        try secret.set("class", "confidential")
        let appended = try MessageLog().append(
            [
                NewMessage(topic: try Topic("field.mm.alert"), account: "undp", headers: flash, payload: [1]),
                NewMessage(topic: try Topic("field.mm.secret"), account: "undp", headers: secret, payload: [2]),
                NewMessage(topic: try Topic("field.th.report"), account: "undp", headers: Headers(), payload: [3]),
            ],
            on: c
        )
        let seqs = try #require(appended?.seqs)
        return (seqs[0], seqs[1], seqs[2])
    }

    private static func range(
        _ account: String,
        consumer: String?,
        pattern: String,
        event: ReceiptEvent,
        _ first: Int64,
        _ last: Int64,
        at seconds: Double
    ) -> ReceiptRange {
        ReceiptRange(
            account: account,
            consumer: consumer,
            connection: "c1/127.0.0.1:5000",
            subscription: "s1",
            pattern: pattern,
            clearance: .internal,
            event: event,
            firstSeq: first,
            lastSeq: last,
            firstAt: Self.t0.addingTimeInterval(seconds),
            lastAt: Self.t0.addingTimeInterval(seconds + 0.5)
        )
    }

    @Test func receiptsPerAccountComeFromRangesWithEntitlementAndDeadLettersApplied() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let (alert, secret, other) = try Self.setUp(c)
        let settings = ConsumerSettings(pattern: try TopicPattern("field.mm.>"), ackMode: .explicit)
        for name in ["feed"] {
            _ = try Consumers().open(account: "mm-a", name: name, settings: settings, start: nil, reset: false, on: c)
            _ = try Consumers().open(account: "mm-b", name: name, settings: settings, start: nil, reset: false, on: c)
        }
        try Receipts().record(
            [
                // mm-a: its durable got alert, secret (above its clearance: not covered) and acked both.
                Self.range("mm-a", consumer: "feed", pattern: "field.mm.>", event: .delivered, alert, secret, at: 1),
                Self.range("mm-a", consumer: "feed", pattern: "field.mm.>", event: .acked, alert, secret, at: 2),
                // mm-b: delivered, then the floor passed it as a dead letter: not acknowledged.
                Self.range("mm-b", consumer: "feed", pattern: "field.mm.>", event: .delivered, alert, alert, at: 1),
                Self.range("mm-b", consumer: "feed", pattern: "field.mm.>", event: .acked, alert, alert, at: 3),
                // ohchr: a plain subscription over all three (no acks).
                Self.range("ohchr", consumer: nil, pattern: "field.>", event: .delivered, alert, other, at: 1),
                // root (admin) received it too: listed, though not entitled.
                Self.range("root", consumer: nil, pattern: ">", event: .delivered, alert, alert, at: 4),
            ],
            on: c
        )
        try Consumers().deadLetter(
            account: "mm-b",
            name: "feed",
            seq: alert,
            topic: "field.mm.alert",
            deliveries: 5,
            reason: "no ACK",
            on: c
        )

        let report = try #require(try Receipts().report(seq: alert, on: c))
        #expect(report.publisher == "undp" && report.priority == "flash" && report.topic == "field.mm.alert")
        let byAccount = Dictionary(uniqueKeysWithValues: report.recipients.map { ($0.account, $0) })
        // Entitled: enabled non-admin accounts other than the publisher that may read field.mm.alert.
        #expect(report.recipients.map(\.account) == ["mm-a", "mm-b", "ohchr", "root"])
        #expect(byAccount["mm-a"]?.status == "acknowledged")
        #expect(byAccount["mm-a"]?.ackedAt == Self.t0.addingTimeInterval(2.5))
        #expect(byAccount["mm-a"]?.deliveredAt == Self.t0.addingTimeInterval(1.5))
        #expect(byAccount["mm-a"]?.via == ["durable:feed"])
        #expect(byAccount["mm-b"]?.status == "delivered")  // dead-lettered, not acknowledged
        #expect(byAccount["ohchr"]?.status == "delivered")
        #expect(byAccount["ohchr"]?.via == ["sid:s1@c1/127.0.0.1:5000"])
        #expect(byAccount["root"]?.entitled == false)
        #expect(byAccount.values.filter { $0.account != "root" }.allSatisfy { $0.entitled })

        // The confidential message: nobody's internal clearance covers it, so no receipt and no
        // entitled account (th-a, mm-c and the publisher never appear).
        #expect(try Receipts().report(seq: secret, on: c)?.recipients.isEmpty == true)
        // field.th.report: th-a is entitled and got nothing: pending.
        let th = try #require(try Receipts().report(seq: other, on: c))
        #expect(th.recipients.map { "\($0.account) \($0.status)" } == ["ohchr delivered", "th-a pending"])
        #expect(try Receipts().report(seq: 999_999, on: c) == nil)

        let pending = try Receipts().pending(
            matching: try TopicPattern(">"),
            since: Date(timeIntervalSince1970: 0),
            until: nil,
            priority: .flash,
            limit: 100,
            on: c
        )
        #expect(pending.map { "\($0.seq) \($0.account)" } == ["\(alert) mm-b", "\(alert) ohchr"])
        #expect(pending.allSatisfy { $0.deliveredAt != nil })
        let all = try Receipts().pending(
            matching: try TopicPattern("field.th.>"),
            since: Date(timeIntervalSince1970: 0),
            until: nil,
            priority: nil,
            limit: 100,
            on: c
        )
        #expect(
            all.map { "\($0.seq) \($0.account) \($0.deliveredAt == nil)" } == [
                "\(other) ohchr false", "\(other) th-a true",
            ]
        )
    }

    @Test func entitlementInSQLAgreesWithPermissions() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        _ = try Self.setUp(c)
        let rules = AccessRules()
        try rules.grant(
            account: "ohchr",
            rule: AccessRule(action: .subscribe, effect: .deny, pattern: try TopicPattern("field.mm.hr.>")),
            on: c
        )
        try rules.grant(
            account: "ohchr",
            rule: AccessRule(action: .subscribe, effect: .allow, pattern: try TopicPattern("a.*.c")),
            on: c
        )
        try rules.grant(
            account: "th-a",
            rule: AccessRule(action: .subscribe, effect: .deny, pattern: try TopicPattern("hq.*")),
            on: c
        )
        _ = try Accounts().setClearance(.confidential, name: "mm-b", on: c)
        let topics = [
            "field.mm.alert", "field.mm.hr.x", "field.mm.hr", "a.b.c", "a.b.c.d", "a.c", "hq.x", "hq.x.y", "net.y.z",
            "field.th.r", "field",
        ]
        var checked = 0
        for account in ["ohchr", "mm-a", "mm-b", "th-a", "root"] {
            let permissions = try #require(try rules.permissions(account: account, on: c))
            for topic in topics {
                for classification in Classification.allCases {
                    let row = try c.query(
                        "SELECT liaison_may_read($1, $2) AND liaison_cleared($3, a.clearance) FROM accounts a WHERE a.name = $1",
                        [account.postgresBind, topic.postgresBind, classification.rawValue.postgresBind]
                    )
                    let sql = try row.decode(Bool.self, row: 0, column: 0)
                    let swift = permissions.mayRead(try Topic(topic)) && permissions.isCleared(for: classification)
                    #expect(sql == swift, "\(account) \(topic) \(classification)")
                    checked += 1
                }
            }
        }
        #expect(checked == 5 * topics.count * 4)
    }

    @Test func theAuditorRoleReadsTheViewsAndCannotChangeAnything() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let (alert, _, _) = try Self.setUp(c)
        _ = try c.query("SET ROLE liaison_auditor")
        for view in [
            "audit_messages", "audit_deliveries", "audit_acknowledgements", "audit_receipts", "audit_pending",
            "audit_dead_letters", "audit_security_events",
        ] {
            _ = try c.query("SELECT count(*) FROM \(view)")
        }
        #expect(
            try c.query("SELECT count(*) FROM audit_receipts WHERE seq = $1", [alert.postgresBind]).decode(
                Int64.self,
                row: 0,
                column: 0
            ) > 0
        )
        for statement in [
            "UPDATE messages SET topic = 'x'", "DELETE FROM messages", "INSERT INTO receipt_ranges DEFAULT VALUES",
            "DELETE FROM receipt_ranges", "UPDATE audit_leaves SET hash = hash", "SELECT * FROM credentials",
            "DELETE FROM security_events",
            "INSERT INTO messages (seq, topic, account, published_at, payload) VALUES (0, 'x', 'y', now(), '')",
        ] {
            do {
                _ = try c.query(statement)
                Issue.record("the auditor could run: \(statement)")
            } catch {
                #expect((error as? PostgresError)?.sqlState == "42501", "\(statement): \(error)")
            }
        }
        _ = try c.query("RESET ROLE")
        #expect(try c.query("SELECT count(*) FROM messages").decode(Int64.self, row: 0, column: 0) == 3)
    }
}

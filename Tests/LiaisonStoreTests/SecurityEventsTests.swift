import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

@Suite struct SecurityEventsTests {
    @Test func recordsAndListsNewestFirstWithFilters() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let events = SecurityEvents()
        try events.record(.authFailed, account: "ohchr", remote: "10.0.0.7:51234", reason: "wrong token", on: c)
        try events.record(
            [
                (kind: .authSucceeded, account: "ohchr", remote: "10.0.0.7:51235", reason: ""),
                (kind: .publishRefused, account: "ohchr", remote: "10.0.0.7:51235", reason: "topic hq.undp.x"),
                (kind: .connectionRefused, account: nil, remote: nil, reason: "too many connections"),
            ],
            on: c
        )
        try events.record([NewSecurityEvent](), on: c)

        let all = try events.list(account: nil, kind: nil, since: nil, limit: 10, on: c)
        #expect(all.map(\.kind) == [.connectionRefused, .publishRefused, .authSucceeded, .authFailed])
        #expect(all[0].account == nil)
        #expect(all[0].remote == nil)
        #expect(all[1].reason == "topic hq.undp.x")
        #expect(all[3].remote == "10.0.0.7:51234")
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.at >= $1.at && $0.id > $1.id })

        #expect(try events.list(account: "ohchr", kind: nil, since: nil, limit: 10, on: c).count == 3)
        #expect(
            try events.list(account: nil, kind: .authFailed, since: nil, limit: 10, on: c).map(\.reason) == [
                "wrong token"
            ]
        )
        #expect(try events.list(account: nil, kind: nil, since: nil, limit: 2, on: c).count == 2)
        let later = all[0].at.addingTimeInterval(1)
        #expect(try events.list(account: nil, kind: nil, since: later, limit: 10, on: c).isEmpty)
        #expect(try events.list(account: nil, kind: nil, since: all[1].at, limit: 10, on: c).count == 2)
    }

    @Test func adminChangesAreRecordedWithTheirActorInTheChangesTransaction() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let audit = AdminAudit(actor: "alice")
        let account = Account(name: "ohchr", kind: .entity)
        try audit.perform(on: c) { c in
            try Accounts().add(account, on: c)
            return ((), [AdminChange(.accountAdded, account: "ohchr", reason: "added entity")])
        }
        // A change that fails keeps neither the change nor its event.
        #expect(throws: StoreError.self) {
            try audit.perform(on: c) { c in
                try Accounts().setEnabled(false, name: "ohchr", on: c)
                try Accounts().add(account, on: c)
                return ((), [AdminChange(.accountDisabled, account: "ohchr", reason: "enabled -> disabled")])
            }
        }
        #expect(try Accounts().find("ohchr", on: c)?.enabled == true)
        try SecurityEvents().record(.authFailed, account: "ohchr", remote: "10.0.0.7:1", reason: "wrong token", on: c)

        let all = try SecurityEvents().list(account: "ohchr", kind: nil, since: nil, limit: 10, on: c)
        #expect(all.map(\.kind) == [.authFailed, .accountAdded])
        #expect(all.map(\.actor) == [nil, "alice"])
        #expect(all[1].remote == AdminAudit.remote)
        let alices = try SecurityEvents().list(account: nil, kind: nil, actor: "alice", since: nil, limit: 10, on: c)
        #expect(alices.map(\.reason) == ["added entity"])
    }

    @Test func exportStreamsEveryEventInPagesInTheListingsOrder() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        try SecurityEvents().record(
            (0..<25).map { NewSecurityEvent(kind: .authFailed, account: "a\($0 % 3)", remote: nil, reason: "#\($0)") },
            on: c
        )
        var pages: [[SecurityEvent]] = []
        try SecurityEvents().export(account: nil, kind: nil, actor: nil, since: nil, pageSize: 10, on: c) {
            pages.append($0)
            return true
        }
        #expect(pages.map(\.count) == [10, 10, 5])
        let listed = try SecurityEvents().list(account: nil, kind: nil, since: nil, limit: 100, on: c)
        #expect(pages.flatMap { $0 } == listed)
        var filtered: [SecurityEvent] = []
        try SecurityEvents().export(account: "a1", kind: nil, actor: nil, since: nil, pageSize: 4, on: c) {
            filtered += $0
            return filtered.count < 4
        }
        // Stopped after the first page: the caller said no more.
        #expect(filtered.count == 4 && filtered.allSatisfy { $0.account == "a1" })
        #expect(!c.isInTransaction)

        // One snapshot: events committed while the export runs are not in it.
        let other = try db.connect()
        defer { other.close() }
        var during: [SecurityEvent] = []
        try SecurityEvents().export(account: nil, kind: nil, actor: nil, since: nil, pageSize: 10, on: c) {
            if during.isEmpty {
                try SecurityEvents().record(.authFailed, account: "late", remote: nil, reason: "late", on: other)
            }
            during += $0
            return true
        }
        #expect(during.count == 25 && !during.contains { $0.account == "late" })
        #expect(try SecurityEvents().list(account: "late", kind: nil, since: nil, limit: 10, on: c).count == 1)
    }
}

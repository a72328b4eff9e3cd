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
        try events.record([], on: c)

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
}

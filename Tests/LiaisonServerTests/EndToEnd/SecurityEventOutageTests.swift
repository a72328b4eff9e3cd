import Foundation
import LiaisonStore
import Logging
import Postgres
import TestSupport
import Testing

@testable import LiaisonServer

/// The daemon's security event recorder against a real PostgreSQL that becomes unreachable (a
/// fault proxy refusing and resetting connections) and comes back: what it held is written in
/// order, and what it could not hold is recorded as one `audit.dropped` event.
@Suite struct SecurityEventOutageTests {
    @Test(.timeLimit(.minutes(2))) func anOutageLosesNothingHeldAndReportsWhatItCouldNotHold() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let port = try #require(URLComponents(string: db.url)?.port)
        let proxy = try await FaultProxy.start(target: "127.0.0.1", port: port)
        defer { proxy.stop() }
        var components = try #require(URLComponents(string: db.url))
        components.host = "127.0.0.1"
        components.port = proxy.port
        let storage = PostgresStorage(
            databaseURL: try #require(components.string),
            readPoolSize: 1,
            timeouts: DatabaseTimeouts(connectSeconds: 2, statementMilliseconds: 2_000, callMilliseconds: 2_000)
        )
        defer { storage.shutdown() }
        let recorder = SecurityEventRecorder(storage: storage, logger: Logger(label: "test"), capacity: 5)
        let direct = try db.connect()
        defer { direct.close() }
        func reasons() throws -> [String] {
            try SecurityEvents().list(account: nil, kind: nil, since: nil, limit: 100, on: direct).reversed()
                .map(\.reason)
        }
        func waitFor(_ what: String, _ condition: () throws -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while try !condition() {
                let seen = try reasons()
                try #require(ContinuousClock.now < deadline, "timed out waiting for \(what): \(seen)")
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        recorder.record(.authFailed, account: "ohchr", remote: "192.0.2.1:1", reason: "before")
        try await waitFor("the first event") { try reasons() == ["before"] }

        try proxy.refuse()
        try proxy.reset()
        // Capacity 5: the first five are held (one of them in a failing write), three are dropped.
        for index in 1...8 {
            recorder.record(
                index % 2 == 0 ? .publishRefused : .authFailed,
                account: "ohchr",
                remote: "192.0.2.1:\(index)",
                reason: "during \(index)"
            )
        }
        // Let the recorder fail and back off at least once while the database is unreachable.
        try await Task.sleep(for: .seconds(1))
        #expect(try reasons() == ["before"])
        let reachableAgain = Date()
        try proxy.accept()

        try await waitFor("the held events and the drop report") { try reasons().count == 7 }
        let stored = try reasons()
        #expect(Array(stored[0...5]) == ["before", "during 1", "during 2", "during 3", "during 4", "during 5"])
        let report = try #require(
            try SecurityEvents().list(account: nil, kind: .auditDropped, since: nil, limit: 10, on: direct).first
        )
        #expect(report.reason.hasPrefix("3 security events could not be recorded between "), "\(report.reason)")
        // Dropped: 6 and 8 (pub.refused), 7 (auth.failed).
        #expect(report.reason.contains("(auth.failed 1, pub.refused 2): more than 5 were waiting"), "\(report.reason)")
        #expect(report.account == nil && report.actor == nil)
        // Held events keep the time they happened, not the time the database took them.
        let held = try SecurityEvents().list(account: "ohchr", kind: nil, since: nil, limit: 100, on: direct)
            .filter { $0.reason.hasPrefix("during ") }
        #expect(held.count == 5)
        #expect(held.allSatisfy { $0.at < reachableAgain }, "\(held.map(\.at)) vs \(reachableAgain)")
    }
}

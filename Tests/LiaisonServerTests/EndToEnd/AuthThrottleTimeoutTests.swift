import Foundation
import LiaisonClient
import LiaisonCore
import LiaisonServer
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// A throttle wait the auth timeout would cut short, over the wire: `ERR 429` at once and an
/// `auth.throttled` security event (docs/SECURITY.md, "Guessing"), not `ERR 401 no AUTH within …`.
@Suite struct AuthThrottleTimeoutTests {
    @Test func anAuthWhoseWaitWouldOutlastTheAuthTimeoutGets429AndIsRecorded() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        // Three free failures, then waits of 0.5, 1, 2 and 4 s (each well inside the 8 s auth
        // timeout); the next would be 8 s, which the auth timeout would cut short.
        let limits = ServerConfiguration.Limits.with {
            $0.authBaseDelayMilliseconds = 500
            $0.authTimeoutMilliseconds = 8_000
        }
        try await TestDaemon.run(db, limits: limits) { daemon in
            for attempt in 0..<7 {
                let guesser = try await daemon.client(nil)
                let reply = try await guesser.command("AUTH ohchr lia_wrong\(attempt)")
                #expect(reply == "ERR 401 invalid account or token", "attempt \(attempt + 1)")
            }
            // Another account from the same address, with its valid token.
            let client = try await daemon.client(nil)
            let reply = try await client.command("AUTH unhcr \(daemon.tokens["unhcr"]!)")
            #expect(reply.hasPrefix("ERR 429 too many failed attempts: retry in "), "\(reply)")

            let connection = try db.connect()
            defer { connection.close() }
            let deadline = ContinuousClock.now + .seconds(20)
            var recorded = 0
            while recorded == 0 && ContinuousClock.now < deadline {
                recorded = try connection.query(
                    "SELECT 1 FROM security_events WHERE kind = 'auth.throttled' AND account = 'unhcr'"
                ).rowCount
                if recorded == 0 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(recorded == 1, "no auth.throttled event for the refused AUTH")
        }
    }
}

import Foundation
import LiaisonClient
import LiaisonCore
import LiaisonServer
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// Permissions, classification and abuse limits over the wire.
@Suite struct SecurityTests {
    /// Accounts with the documented default rules (no test grants), and their tokens.
    private func restrictedAccounts(
        _ db: TestDatabase,
        clearance: Classification = .internal
    ) throws -> [String: String] {
        let c = try db.connect()
        let accounts = Accounts()
        if try accounts.find("iom", on: c) == nil {
            try accounts.add(Account(name: "iom", kind: .entity), on: c)
            try accounts.add(Account(name: "iom-iq-erbil", kind: .office, parent: "iom", country: "iq"), on: c)
        }
        return [
            "iom": try Credentials().issue(for: "iom", on: c),
            "iom-iq-erbil": try Credentials().issue(for: "iom-iq-erbil", on: c),
        ]
    }

    private func client(_ daemon: TestDaemon, _ account: String, _ token: String) async throws -> LiaisonClient {
        let client = try await LiaisonClient.connect(host: "127.0.0.1", port: daemon.port)
        try await client.auth(account: account, token: token)
        return client
    }

    @Test func defaultRulesAllowOwnPrefixesAndRefuseTheRestWith403() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let tokens = try self.restrictedAccounts(db)
            let entity = try await self.client(daemon, "iom", tokens["iom"]!)
            let office = try await self.client(daemon, "iom-iq-erbil", tokens["iom-iq-erbil"]!)
            // An entity posts under its own prefix, not under another entity's or the field's.
            #expect(try await entity.command("SUB x hq.unhcr.>") == "OK SUB x")
            _ = try await entity.publish(topic: "hq.iom.action-plan.ap-03", payload: [])
            let refused = await #expect(throws: ServerError.self) {
                try await entity.publish(topic: "hq.unhcr.guidance-note.rec-01", payload: [])
            }
            #expect(refused?.code == 403)
            // A field office reads its country, not another's; wildcard escapes are refused.
            #expect(try await office.command("SUB a field.iq.>") == "OK SUB a")
            for pattern in ["field.mm.>", "field.*.erbil.report", ">", "field.>", "*.iq.>"] {
                #expect(try await office.command("SUB b \(pattern)").hasPrefix("ERR 403"), "\(pattern)")
            }
            _ = try await office.publish(topic: "field.iq.erbil.report", payload: [])
            let wrongCountry = await #expect(throws: ServerError.self) {
                try await office.publish(topic: "field.mm.sittwe.report", payload: [])
            }
            #expect(wrongCountry?.code == 403)
            // Refusals are audited.
            let c = try db.connect()
            var events: [SecurityEvent] = []
            for _ in 0..<50 where events.count < 2 {
                try await Task.sleep(for: .milliseconds(50))
                events = try SecurityEvents().list(account: nil, kind: .publishRefused, since: nil, limit: 10, on: c)
            }
            #expect(Set(events.compactMap(\.account)) == ["iom", "iom-iq-erbil"])
        }
    }

    @Test func classificationIsEnforcedOnPublishLiveDeliveryAndReplay() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let tokens = try self.restrictedAccounts(db)
            let office = try await self.client(daemon, "iom-iq-erbil", tokens["iom-iq-erbil"]!)
            try await office.subscribe(sid: "live", pattern: "field.iq.>")
            let publisher = try await daemon.client("unhcr")  // broad rules, clearance of its role
            let secret = await #expect(throws: ServerError.self) {
                try await office.publish(
                    topic: "field.iq.erbil.report",
                    payload: [],
                    headers: [("class", "confidential")]
                )
            }
            #expect(secret?.code == 403)  // above its own clearance (internal)
            let c = try db.connect()
            try c.query("UPDATE accounts SET clearance = 'strictly-confidential' WHERE name = 'unhcr'")
            try await Task.sleep(for: .milliseconds(1500))  // the daemon reloads clearances within a second
            let open = try await publisher.publish(
                topic: "field.iq.erbil.report",
                payload: Array("open".utf8),
                headers: [("class", "public")]
            )
            _ = try await publisher.publish(
                topic: "field.iq.erbil.report",
                payload: Array("hidden".utf8),
                headers: [("class", "confidential")]
            )
            let plain = try await publisher.publish(topic: "field.iq.erbil.report", payload: Array("internal".utf8))
            let live = try await collect(office, count: 2)
            #expect(live.map(\.seq) == [open.seq, plain.seq])
            // Replay filters the same way.
            let replayer = try await self.client(daemon, "iom-iq-erbil", tokens["iom-iq-erbil"]!)
            try await replayer.subscribe(sid: "r", pattern: "field.iq.>", options: [("from", "all")])
            #expect(try await collect(replayer, count: 2).map(\.seq) == [open.seq, plain.seq])
        }
    }

    /// Subscribes an office, proves delivery, applies an admin `change`, and expects no delivery
    /// once the daemon has reloaded (about a second). Returns the office's client for more checks.
    private func expectLiveOfficeSilenced(
        _ daemon: TestDaemon,
        _ db: TestDatabase,
        by change: (Connection) throws -> Void
    ) async throws -> LiaisonClient {
        let tokens = try self.restrictedAccounts(db)
        let office = try await self.client(daemon, "iom-iq-erbil", tokens["iom-iq-erbil"]!)
        try await office.subscribe(sid: "s", pattern: "field.iq.>")
        let publisher = try await daemon.client("unhcr")
        let first = try await publisher.publish(topic: "field.iq.erbil.report", payload: [])
        #expect(try await collect(office, count: 1).map(\.seq) == [first.seq])
        try change(try db.connect())
        try await Task.sleep(for: .milliseconds(1500))
        _ = try await publisher.publish(topic: "field.iq.erbil.report", payload: [])
        let after = try? await collect(office, count: 1, timeout: .milliseconds(800))
        #expect(after == nil, "delivered after the change")
        return office
    }

    @Test func aRevokedRuleStopsDeliveryOnALiveConnection() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let office = try await self.expectLiveOfficeSilenced(daemon, db) { connection in
                try AccessRules().revoke(
                    account: "iom-iq-erbil",
                    rule: AccessRule(action: .subscribe, effect: .allow, pattern: try TopicPattern("field.iq.>")),
                    on: connection
                )
            }
            #expect(try await office.command("SUB t field.iq.>").hasPrefix("ERR 403"))
        }
    }

    @Test func disablingAnAccountSilencesItsLiveConnections() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let office = try await self.expectLiveOfficeSilenced(daemon, db) { connection in
                try Accounts().setEnabled(false, name: "iom-iq-erbil", on: connection)
            }
            let refused = await #expect(throws: ServerError.self) {
                try await office.publish(topic: "field.iq.erbil.report", payload: [])
            }
            #expect(refused?.code == 403)
        }
    }

    @Test func repeatedBadTokensAreSlowedThenRefusedWith429() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let limits = ServerConfiguration.Limits.with {
            $0.authBaseDelayMilliseconds = 20
            $0.authTimeoutMilliseconds = 0
        }
        try await TestDaemon.run(db, limits: limits) { daemon in
            let tokens = try self.restrictedAccounts(db)
            let guesser = try await daemon.client(nil)
            var codes: [String] = []
            var slowest = Duration.zero
            for attempt in 0..<12 {
                let start = ContinuousClock.now
                let reply = try await guesser.command("AUTH iom lia_wrong\(attempt)")
                slowest = max(slowest, ContinuousClock.now - start)
                codes.append(String(reply.prefix(7)))
            }
            #expect(codes.prefix(10).allSatisfy { $0 == "ERR 401" })
            // The 10th failure waited 20 ms × 2^6 after three free ones.
            #expect(slowest >= .milliseconds(1280))
            #expect(codes.last == "ERR 429")
            // Even the right token is refused while locked out.
            #expect(try await guesser.command("AUTH iom \(tokens["iom"]!)").hasPrefix("ERR 429"))
        }
    }

    @Test func anUnauthenticatedConnectionIsClosedAfterTheAuthTimeout() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db, limits: .with { $0.authTimeoutMilliseconds = 400 }) { daemon in
            let silent = try RawSocket(port: daemon.port)
            let text = try await silent.readUntilClosed(timeout: .seconds(20))
            #expect(text.contains("ERR 401"), "\(text)")
        }
    }

    @Test func connectionsPerAccountAndPublishRateAnswer429() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let limits = ServerConfiguration.Limits.with {
            $0.maxConnectionsPerAccount = 2
            $0.publishRatePerSecond = 5
            $0.publishBurst = 5
        }
        try await TestDaemon.run(db, limits: limits) { daemon in
            let a = try await daemon.client("ohchr")
            let b = try await daemon.client("ohchr")
            let third = try await LiaisonClient.connect(host: "127.0.0.1", port: daemon.port)
            try await third.sendRaw(Array("AUTH ohchr \(daemon.tokens["ohchr"]!)\n".utf8))
            let thirdReply = try await third.nextReply()
            #expect(thirdReply.hasPrefix("ERR 429"), "\(thirdReply)")
            await third.waitUntilClosed()
            let replies = try await a.publishPipelined(
                (0..<8).map { _ in (topic: "hq.ohchr.x", payload: [], headers: []) }
            )
            let limited = replies.filter { if case .failure(let e) = $0 { return e.code == 429 } else { return false } }
            #expect(limited.count >= 2)
            await b.close()
        }
    }
}

/// The remaining limits: subscriptions per connection, connections in total, idle connections.
@Suite struct LimitTests {
    @Test func subscriptionsPerConnectionAndConnectionsInTotal() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let limits = ServerConfiguration.Limits.with {
            $0.maxSubscriptions = 2
            $0.maxConnections = 3
        }
        try await TestDaemon.run(db, limits: limits) { daemon in
            let client = try await daemon.client("ohchr")
            #expect(try await client.command("SUB a hq.>") == "OK SUB a")
            #expect(try await client.command("SUB b net.>") == "OK SUB b")
            #expect(try await client.command("SUB c field.>").hasPrefix("ERR 429"))
            let second = try await daemon.client("unhcr")
            let third = try await daemon.client("undp")
            // A fourth connection is over the daemon's limit: ERR 429, then closed.
            let fourth = try RawSocket(port: daemon.port)
            let text = try await fourth.readUntilClosed(timeout: .seconds(20))
            #expect(text.contains("ERR 429"), "\(text)")
            await client.close()
            await second.close()
            await third.close()
        }
    }

    @Test func aConnectionThatSendsOnlyPingsIsClosedAfterTheIdleTimeout() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db, limits: .with { $0.idleTimeoutMilliseconds = 600 }) { daemon in
            let client = try await daemon.client("ohchr")
            let start = ContinuousClock.now
            // PINGs do not count as activity; the connection closes while they go on.
            while (try? await client.command("PING")) != nil {
                try await Task.sleep(for: .milliseconds(100))
                #expect(ContinuousClock.now - start < .seconds(30))
            }
            #expect(ContinuousClock.now - start >= .milliseconds(500))
        }
    }
}

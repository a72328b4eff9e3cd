import Foundation
import Postgres
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL frozen for real — the postmaster and every backend SIGSTOPped, TCP connections open
/// and silent — under a `liaisond` with default settings (invariant 9 of docs/ARCHITECTURE.md:
/// publishes answered `ERR 503` within the 5 s publish timeout, `AUTH` within the storage
/// timeout, `PING` unaffected, service back by itself). Each test runs a cluster of its own, so
/// freezing it stops no other test's server.
@Suite(.serialized)
struct FrozenDatabaseTests {
    /// A field office (default rules: it publishes under `field.mm.>`).
    private static let publisherAccount = "unhcr-mm-sittwe"
    /// An entity, for the `AUTH` made while the database is frozen.
    private static let readerAccount = "ohchr"
    private static let topic = "field.mm.sittwe.report"
    /// The defaults of `writer.publishTimeoutMs` and `database.callTimeoutMs`: the promise under test.
    private static let promise = Duration.seconds(5)
    /// Room for a loaded 2-core machine running a debug build, not for a hang.
    private static let margin = Duration.seconds(3)
    /// `liaisond`'s shutdown deadline with default settings: `shutdownGraceMs` (10 s) + 2 × the
    /// publish timeout (ServerConfiguration, LiaisonServer.run).
    private static let shutdownDeadline = Duration.seconds(20)

    @Test(.timeLimit(.minutes(3)))
    func everyPublishIsAnsweredInTimeWhileFrozenAndServiceResumesAfterSIGCONT() async throws {
        let cluster = try await PrivateCluster.start()
        defer { cluster.stop() }
        let (daemon, tokens) = try await Self.daemon(on: cluster)
        let port = daemon.port
        let idle = try await Self.client(port: port, account: Self.readerAccount, tokens: tokens)
        var publishers: [TimedPublisher] = []
        for index in 0..<2 {
            let client = try await Self.client(port: port, account: Self.publisherAccount, tokens: tokens)
            publishers.append(TimedPublisher(client, topic: Self.topic, label: "frozen p\(index)"))
        }
        try await Polling.until("both publishers get OK PUB", within: .seconds(20)) {
            publishers.allSatisfy { $0.snapshot.contains { Self.isStored($0.reply) } }
        }

        try cluster.freeze()
        let frozenAt = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(500))
        // PING needs no database; AUTH of a new connection gets an answer either way.
        let ping = try await ProcessClient.onThread {
            try Self.timed { try idle.command("PING", timeout: .seconds(20)) }
        }
        #expect(ping.reply == "PONG")
        #expect(ping.took < .seconds(2), "PING took \(ping.took) while the database was frozen")
        let token = try #require(tokens[Self.readerAccount])
        let auth = try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            return try Self.timed { try client.command("AUTH \(Self.readerAccount) \(token)", timeout: .seconds(30)) }
        }
        #expect(auth.reply == "OK AUTH \(Self.readerAccount)" || auth.reply.hasPrefix("ERR 503 "), "\(auth.reply)")
        #expect(auth.took <= Self.promise + Self.margin, "AUTH took \(auth.took) while the database was frozen")
        // Frozen until every PUB sent before the freeze is past its deadline, and some after it.
        try await Task.sleep(until: frozenAt + Self.promise + Self.margin + .seconds(1))

        cluster.thaw()
        let thawedAt = ContinuousClock.now
        try await Polling.until("a PUB sent after SIGCONT gets OK PUB", within: .seconds(20)) {
            publishers.contains { $0.snapshot.contains { $0.sent > thawedAt && Self.isStored($0.reply) } }
        }
        let resumedAfter = ContinuousClock.now - thawedAt
        var records: [TimedPublisher.Record] = []
        for publisher in publishers {
            records += try await ProcessClient.onThread { publisher.finish(timeout: Self.promise + Self.margin) }
        }
        await daemon.stop()

        let unanswered = records.filter { $0.reply == nil }
        #expect(unanswered.isEmpty, "\(unanswered.count) PUBs never answered: \(Self.names(unanswered))")
        let latest = records.compactMap(\.latency).max() ?? .zero
        #expect(latest <= Self.promise + Self.margin, "the slowest PUB waited \(latest) for its reply")
        let wrong = records.filter { record in
            guard let reply = record.reply else { return false }
            if Self.isStored(reply) { return false }
            guard case .error(503, _) = reply else { return true }
            return false
        }
        #expect(wrong.isEmpty, "replies other than OK PUB or ERR 503: \(wrong.prefix(5).map { "\($0.reply!)" })")
        let refused = records.filter { record in
            guard let answered = record.answered, case .error(503, _)? = record.reply else { return false }
            return answered > frozenAt && answered < thawedAt
        }
        #expect(!refused.isEmpty, "no PUB was answered ERR 503 while frozen: the freeze did not bite")
        try Self.checkStored(records, url: daemon.databaseURL)
        print(
            "FrozenDatabaseTests: \(records.count) PUBs, \(refused.count) answered ERR 503 while frozen, slowest reply"
                + " \(latest), PING \(ping.took), AUTH \(auth.took) (\(auth.reply.prefix(40))), resumed \(resumedAfter)"
                + " after SIGCONT"
        )
    }

    @Test(.timeLimit(.minutes(2)))
    func sigtermWhileFrozenExitsWithinTheShutdownDeadlineAndAnswersEveryPublish() async throws {
        let cluster = try await PrivateCluster.start()
        defer { cluster.stop() }
        let (daemon, tokens) = try await Self.daemon(on: cluster)
        let client = try await Self.client(port: daemon.port, account: Self.publisherAccount, tokens: tokens)
        let publisher = TimedPublisher(client, topic: Self.topic, label: "shutdown")
        try await Polling.until("OK PUB", within: .seconds(20)) {
            publisher.snapshot.contains { Self.isStored($0.reply) }
        }
        try cluster.freeze()
        try await Task.sleep(for: .milliseconds(500))
        publisher.stopSending()
        // Every PUB sent is now read by the daemon (32 small ones at most), awaiting the database.
        kill(daemon.pid, SIGTERM)
        let start = ContinuousClock.now
        while daemon.isRunning && ContinuousClock.now - start < Self.shutdownDeadline + .seconds(20) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let took = ContinuousClock.now - start
        let log = daemon.logText
        await daemon.stop()

        #expect(
            took <= Self.shutdownDeadline + Self.margin,
            "SIGTERM took \(took) with the database frozen; log:\n\(log)"
        )
        let records = try await ProcessClient.onThread { publisher.finish(timeout: .seconds(5)) }
        let unanswered = records.filter { $0.reply == nil }
        #expect(unanswered.isEmpty, "\(unanswered.count) PUBs unanswered at shutdown: \(Self.names(unanswered))")
        let latest = records.compactMap(\.latency).max() ?? .zero
        #expect(latest <= Self.promise + Self.margin, "the slowest PUB waited \(latest) for its reply")
        let wrong = records.compactMap(\.reply).filter { reply in
            if Self.isStored(reply) { return false }
            guard case .error(503, _) = reply else { return true }
            return false
        }
        #expect(wrong.isEmpty, "replies other than OK PUB or ERR 503: \(wrong.prefix(5))")
        cluster.thaw()
        try Self.checkStored(records, url: daemon.databaseURL)
        print(
            "FrozenDatabaseTests: SIGTERM with the database frozen exited after \(took); \(records.count) PUBs,"
                + " slowest reply \(latest)"
        )
    }

    // MARK: - Helpers

    /// Creates database `liaison` on `cluster`, imports the network's accounts, issues tokens and
    /// starts `liaisond` on it with default settings.
    private static func daemon(on cluster: PrivateCluster) async throws -> (Daemon, [String: String]) {
        let url = try cluster.createMigratedDatabase("liaison")
        let environment = ["LIAISON_DATABASE_URL": url]
        let network = CLI.packageRoot.appendingPathComponent("config/network.json").path
        let imported = try await CLI.run(["account", "import", network], environment: environment)
        try #require(imported.status == 0, "\(imported)")
        var tokens: [String: String] = [:]
        for account in [Self.publisherAccount, Self.readerAccount] {
            let issued = try await CLI.run(["token", "issue", account], environment: environment)
            let token = try #require(issued.lines.first, "\(issued)")
            tokens[account] = token
        }
        return (try await Daemon(databaseURL: url), tokens)
    }

    /// A connection authenticated as `account`.
    private static func client(port: Int, account: String, tokens: [String: String]) async throws -> ProcessClient {
        let token = try #require(tokens[account])
        return try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            try client.authenticate(account: account, token: token)
            return client
        }
    }

    /// Runs `body` and measures it.
    private static func timed(_ body: () throws -> String) rethrows -> (reply: String, took: Duration) {
        let start = ContinuousClock.now
        let reply = try body()
        return (reply, ContinuousClock.now - start)
    }

    /// Whether a reply is `OK PUB <seq>` (a fresh store, not `DUP`: these PUBs carry no `id=`).
    private static func isStored(_ reply: ProcessClient.Reply?) -> Bool {
        guard case .published(_, false)? = reply else { return false }
        return true
    }

    /// The payloads of `records`, the first few, as text.
    private static func names(_ records: [TimedPublisher.Record]) -> [String] {
        records.prefix(5).map { String(decoding: $0.payload, as: UTF8.self) }
    }

    /// Every `OK PUB <seq>` is stored at that seq with its payload; no `ERR 503 … not stored` is
    /// stored at all.
    private static func checkStored(_ records: [TimedPublisher.Record], url: String) throws {
        let connection = try Connection(url)
        defer { connection.close() }
        let result = try connection.query(
            "SELECT seq, payload FROM messages WHERE account = $1",
            [Self.publisherAccount.postgresBind]
        )
        var stored: [[UInt8]: Int64] = [:]
        for row in 0..<result.rowCount {
            stored[try result.decode([UInt8].self, row: row, column: 1)] = try result.decode(
                Int64.self,
                row: row,
                column: 0
            )
        }
        var lost: [String] = []
        var storedAnyway: [String] = []
        for record in records {
            let name = String(decoding: record.payload, as: UTF8.self)
            switch record.reply {
            case .published(let seq, _)?:
                if stored[record.payload] != seq { lost.append("\(name) (OK PUB \(seq))") }
            case .error(503, let text)? where text.contains("not stored"):
                if stored[record.payload] != nil { storedAnyway.append(name) }
            default:
                continue
            }
        }
        #expect(lost.isEmpty, "acknowledged but not stored at that seq: \(lost.prefix(5))")
        #expect(storedAnyway.isEmpty, "answered 'not stored' but stored: \(storedAnyway.prefix(5))")
    }
}

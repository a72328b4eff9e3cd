import Foundation
import LiaisonCore
import Postgres
import Testing

/// Receipts end to end: a real daemon, a publisher and several subscribers over TCP; `RECEIPTS`,
/// `liaisonctl receipts` and the auditor's SQL views give the same answer.
@Suite(.cliDatabase, .serialized)
struct ReceiptsDaemonTests {
    private static let offices = ["rcmm": "mm", "rcth": "th", "rckh": "kh", "rcla": "la"]

    private static func accounts() async throws -> [String: String] {
        let entity = try await CLIDatabase.run(["account", "add", "rchq", "--kind", "entity"])
        // The suite's tests share one database: the second finds the accounts there.
        try #require(entity.status == 0 || entity.stderr.contains("already exists"), "\(entity)")
        for (name, country) in Self.offices.sorted(by: { $0.key < $1.key }) {
            let office = try await CLIDatabase.run([
                "account", "add", name, "--kind", "office", "--parent", "rchq", "--country", country,
            ])
            try #require(office.status == 0 || office.stderr.contains("already exists"), "\(office)")
        }
        var tokens: [String: String] = [:]
        for account in ["rchq", "rcmm", "rcth", "rckh"] {
            let issued = try await CLIDatabase.run(["token", "issue", account])
            let token = issued.lines.first ?? ""
            try #require(issued.status == 0 && !token.isEmpty, "\(issued)")
            tokens[account] = token
        }
        return tokens
    }

    private static func client(_ daemon: Daemon, _ account: String, _ tokens: [String: String]) throws -> ProcessClient
    {
        let client = try ProcessClient(port: daemon.port)
        try client.authenticate(account: account, token: try #require(tokens[account]))
        return client
    }

    private static func publish(_ client: ProcessClient, _ topic: String, flash: Bool) throws -> Int64 {
        let outgoing = ProcessClient.Outgoing(
            topic: topic,
            payload: Array("alert".utf8),
            headers: flash ? [.init(key: "prio", value: "flash")] : []
        )
        try client.send(outgoing.frame)
        guard case .line(let reply)? = try client.nextFrame(timeout: .seconds(10)),
            case .published(let seq, _) = ProcessClient.Reply(line: reply)
        else { throw ProcessClient.Failure(description: "no OK PUB for \(topic)") }
        return seq
    }

    private static func messages(_ client: ProcessClient, count: Int) throws -> [Int64] {
        var seqs: [Int64] = []
        while seqs.count < count {
            guard let frame = try client.nextFrame(timeout: .seconds(20)) else { break }
            if case .message(let delivery) = frame { seqs.append(delivery.seq) }
        }
        return seqs
    }

    /// `account status` per account for `seq`, from `liaisonctl receipts <seq> --json`.
    private static func cliStatuses(_ seq: Int64) async throws -> [String: String] {
        let result = try await CLIDatabase.run(["receipts", "\(seq)", "--json"])
        try #require(result.status == 0, "\(result)")
        var out: [String: String] = [:]
        for line in result.lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            out[try #require(object["account"] as? String)] = object["status"] as? String
        }
        return out
    }

    private static func sqlStatuses(_ seq: Int64) throws -> [String: String] {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        _ = try connection.query("SET ROLE liaison_auditor")
        let rows = try connection.query("SELECT account, status FROM audit_receipts WHERE seq = $1", [seq.postgresBind])
        var out: [String: String] = [:]
        for row in 0..<rows.rowCount {
            out[try rows.decode(String.self, row: row, column: 0)] = try rows.decode(String.self, row: row, column: 1)
        }
        return out
    }

    /// Sends `RECEIPTS <seq>` and returns its whole answer: the `RCPT` lines, then the reply.
    private static func receipts(_ client: ProcessClient, _ seq: Int64) throws -> [String] {
        try client.send(line: "RECEIPTS \(seq)")
        var lines: [String] = []
        while let frame = try client.nextFrame(timeout: .seconds(10)), case .line(let line) = frame {
            lines.append(line)
            if !line.hasPrefix("RCPT ") { break }
        }
        return lines
    }

    private static func wait(
        until condition: () async throws -> Bool,
        _ what: String
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func receiptsOverTCPTheCLIAndSQLAgree() async throws {
        let tokens = try await Self.accounts()
        let started = Date().addingTimeInterval(-1)
        let daemon = try await Daemon(
            databaseURL: try CLIDatabase.currentURL(),
            settings: ["LIAISON_RECEIPTS_FLUSH_MS": "100"]
        )
        defer { Task { await daemon.stop() } }
        let plain = try Self.client(daemon, "rcmm", tokens)
        #expect(try plain.command("SUB s net.>") == "OK SUB s")
        let auto = try Self.client(daemon, "rcth", tokens)
        #expect(try auto.command("SUB d net.> durable=thfeed ack=auto") == "OK SUB d")
        let explicit = try Self.client(daemon, "rckh", tokens)
        #expect(try explicit.command("SUB e net.> durable=khfeed ack=explicit") == "OK SUB e")

        let publisher = try Self.client(daemon, "rchq", tokens)
        let seqs = try ["net.alert.one", "net.alert.two", "net.alert.three"].map {
            try Self.publish(publisher, $0, flash: true)
        }
        #expect(try Self.messages(plain, count: 3) == seqs)
        #expect(try Self.messages(auto, count: 3) == seqs)
        #expect(try Self.messages(explicit, count: 3) == seqs)
        #expect(try auto.command("ACK d \(seqs[2])") == "OK ACK \(seqs[2])")
        // rckh acknowledges the first and the last, never the second.
        #expect(try explicit.command("ACK e \(seqs[0])") == "OK ACK \(seqs[0])")
        #expect(try explicit.command("ACK e \(seqs[2])") == "OK ACK \(seqs[2])")

        let expected: [[String: String]] = [
            ["rcmm": "delivered", "rcth": "acknowledged", "rckh": "acknowledged", "rcla": "pending"],
            ["rcmm": "delivered", "rcth": "acknowledged", "rckh": "delivered", "rcla": "pending"],
            ["rcmm": "delivered", "rcth": "acknowledged", "rckh": "acknowledged", "rcla": "pending"],
        ]
        try await Self.wait(
            until: {
                for (seq, want) in zip(seqs, expected) where try await Self.cliStatuses(seq) != want { return false }
                return true
            },
            "the receipts in liaisonctl"
        )
        for (seq, want) in zip(seqs, expected) {
            #expect(try await Self.cliStatuses(seq) == want, "seq \(seq)")
            #expect(try Self.sqlStatuses(seq) == want, "seq \(seq)")
            // The publisher asks over TCP: one RCPT line per account, then OK.
            let lines = try Self.receipts(publisher, seq)
            #expect(lines.last == "OK RECEIPTS \(seq) n=4", "\(lines)")
            var tcp: [String: String] = [:]
            for line in lines.dropLast() {
                let fields = line.split(separator: " ").map(String.init)
                tcp[fields[1]] = fields[2]
                #expect(fields.count == 7 && fields[3].hasPrefix("delivered=") && fields[4].hasPrefix("acked="))
            }
            #expect(tcp == want, "seq \(seq): \(lines)")
        }
        // Others may not see them; an unknown seq is not found.
        #expect(try plain.command("RECEIPTS \(seqs[0])").hasPrefix("ERR 403 "))
        #expect(try publisher.command("RECEIPTS 999999").hasPrefix("ERR 404 "))

        // The desk officer's list: per flash message, the entitled offices not yet acknowledged.
        let pending = try await CLIDatabase.run([
            "receipts", "--pending", "--topic", "net.>", "--since", RFC3339.format(started), "--prio", "flash",
            "--json",
        ])
        try #require(pending.status == 0, "\(pending)")
        let rows = try pending.lines.map { line -> String in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let seq = try #require(object["seq"] as? Int64)
            let account = try #require(object["account"] as? String)
            return "\(seq) \(account) \(object["delivered_at"] is NSNull ? "never" : "delivered")"
        }
        #expect(
            rows == [
                "\(seqs[0]) rcla never", "\(seqs[0]) rcmm delivered", "\(seqs[1]) rckh delivered",
                "\(seqs[1]) rcla never", "\(seqs[1]) rcmm delivered", "\(seqs[2]) rcla never",
                "\(seqs[2]) rcmm delivered",
            ]
        )
        let table = try await CLIDatabase.run(["receipts", "\(seqs[1])"])
        #expect(table.status == 0, "\(table)")
        #expect(table.lines.first?.hasPrefix("seq \(seqs[1]) net.alert.two from rchq at ") == true, "\(table)")
        #expect(table.lines.contains { $0.hasPrefix("rcla") && $0.contains("pending") }, "\(table)")
        #expect(try await CLIDatabase.run(["receipts", "999999"]).status == 1)

        // The same from a login that holds only the auditors' role.
        let connection = try CLIDatabase.connect()
        _ = try connection.query(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'liaison_test_auditor') THEN CREATE ROLE liaison_test_auditor LOGIN IN ROLE liaison_auditor; END IF; END $$"
        )
        connection.close()
        var url = try #require(URLComponents(string: try CLIDatabase.currentURL()))
        url.user = "liaison_test_auditor"
        url.password = nil
        let asAuditor = try await CLI.run(
            ["receipts", "\(seqs[1])", "--json"],
            environment: ["LIAISON_DATABASE_URL": try #require(url.string)]
        )
        #expect(asAuditor.status == 0, "\(asAuditor)")
        #expect(asAuditor.lines.count == 4, "\(asAuditor)")

        // The scripted audit of the day: liaisonctl alone and SQL alone (psql as the auditor) agree.
        let audit = try Self.auditDay([
            "--liaisonctl", try CLI.executable("liaisonctl").path, "--database-url", try CLIDatabase.currentURL(),
            "--auditor-url", try #require(url.string), "--since", RFC3339.format(started), "--topic", "net.>",
        ])
        #expect(audit.status == 0, "\(audit.output)")
        #expect(audit.output.contains("PASS: 3 flash alerts"), "\(audit.output)")
        #expect(
            audit.output.contains(
                "\(seqs[1]) net.alert.two from rchq: received [rckh,rcmm,rcth] acknowledged [rcth] not acknowledged [rckh,rcla,rcmm] never delivered [rcla]"
            ),
            "\(audit.output)"
        )
        await daemon.stop()
    }

    @Test func twoThousandPipelinedReceiptsAreAllAnsweredAndOtherConnectionsAreServedMeanwhile() async throws {
        let tokens = try await Self.accounts()
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL())
        defer { Task { await daemon.stop() } }
        let publisher = try Self.client(daemon, "rchq", tokens)
        let seq = try Self.publish(publisher, "net.flood.one", flash: false)
        let flooder = try Self.client(daemon, "rchq", tokens)
        let count = 2_000
        // One write, nothing read yet: the daemon reads one RECEIPTS at a time and pauses reading.
        try flooder.send(Array(String(repeating: "RECEIPTS \(seq)\r\n", count: count).utf8) + Array("PING\r\n".utf8))
        // Meanwhile another connection authenticates and is answered.
        let other = try Self.client(daemon, "rcth", tokens)
        #expect(try other.command("PING") == "PONG")
        var answered = 0
        var refused: [String] = []
        while let frame = try flooder.nextFrame(timeout: .seconds(60)), case .line(let line) = frame {
            if line == "PONG" { break }
            if line.hasPrefix("OK RECEIPTS \(seq) n=") {
                answered += 1
            } else if !line.hasPrefix("RCPT ") {
                refused.append(line)
            }
        }
        #expect(answered == count)
        #expect(refused.isEmpty, "\(refused.prefix(3))")
        await daemon.stop()
    }

    @Test func aDisabledAdminsLiveConnectionLosesTheAdminView() async throws {
        let tokens = try await Self.accounts()
        let added = try await CLIDatabase.run(["account", "add", "rcadmin", "--kind", "entity", "--role", "admin"])
        try #require(added.status == 0 || added.stderr.contains("already exists"), "\(added)")
        try #require(try await CLIDatabase.run(["account", "enable", "rcadmin"]).status == 0)
        let issued = try await CLIDatabase.run(["token", "issue", "rcadmin"])
        try #require(issued.status == 0, "\(issued)")
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL())
        defer { Task { await daemon.stop() } }
        let seq = try Self.publish(try Self.client(daemon, "rchq", tokens), "net.admin.one", flash: false)
        let admin = try ProcessClient(port: daemon.port)
        try admin.authenticate(account: "rcadmin", token: try #require(issued.lines.first))
        #expect(try Self.receipts(admin, seq).last?.hasPrefix("OK RECEIPTS \(seq) n=") == true)
        try #require(try await CLIDatabase.run(["account", "disable", "rcadmin"]).status == 0)
        var reply = ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            reply = try Self.receipts(admin, seq).last ?? ""
            if reply.hasPrefix("ERR 403 ") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(reply == "ERR 403 account rcadmin is disabled")
        #expect(try await CLIDatabase.run(["account", "enable", "rcadmin"]).status == 0)
        await daemon.stop()
    }

    @Test func receiptsOffRecordNothingEvenAtAGracefulStop() async throws {
        let tokens = try await Self.accounts()
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let count = "SELECT count(*) FROM receipt_ranges"
        let before = try connection.query(count).decode(Int64.self, row: 0, column: 0)
        let daemon = try await Daemon(
            databaseURL: try CLIDatabase.currentURL(),
            settings: ["LIAISON_RECEIPTS_ENABLED": "false"]
        )
        let subscriber = try Self.client(daemon, "rcth", tokens)
        #expect(try subscriber.command("SUB d net.off.> durable=thoff ack=auto") == "OK SUB d")
        let publisher = try Self.client(daemon, "rchq", tokens)
        let seq = try Self.publish(publisher, "net.off.one", flash: true)
        #expect(try Self.messages(subscriber, count: 1) == [seq])
        #expect(try subscriber.command("ACK d \(seq)") == "OK ACK \(seq)")
        await daemon.stop()
        #expect(try connection.query(count).decode(Int64.self, row: 0, column: 0) == before)
        #expect(try await Self.cliStatuses(seq)["rcth"] == "pending")
    }

    /// Runs deploy/audit_day.py with python3 and psql from the PATH.
    private static func auditDay(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", CLI.packageRoot.appendingPathComponent("deploy/audit_day.py").path] + arguments
        process.environment = CLI.baseEnvironment()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // The script prints a few lines per alert: far below what a pipe holds.
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func badArgumentsAreUsageErrors() async throws {
        for arguments in [
            ["receipts"], ["receipts", "5", "--pending", "--since", "2026-12-01T00:00:00Z"], ["receipts", "--pending"],
            ["receipts", "--pending", "--since", "yesterday"],
            ["receipts", "--pending", "--since", "2026-12-01T00:00:00Z", "--prio", "loud"],
            ["receipts", "--pending", "--since", "2026-12-01T00:00:00Z", "--topic", "a.>.b"], ["receipts", "0"],
            ["receipts", "5", "--topic", "hq.>"], ["receipts", "5", "--limit", "3"],
        ] {
            let result = try await CLIDatabase.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result)")
        }
    }

    @Test func aThousandWayFanOutWritesRowsPerSubscriptionAndFlushNotPerMessage() async throws {
        let tokens = try await Self.accounts()
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL())
        defer { Task { await daemon.stop() } }
        let subscriber = try Self.client(daemon, "rcmm", tokens)
        let fanOut = 1_000
        for n in 1...fanOut { try subscriber.send(line: "SUB f\(n) net.fan.>") }
        for n in 1...fanOut { #expect(try subscriber.nextFrame(timeout: .seconds(20)) == .line("OK SUB f\(n)")) }
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let before = try connection.query("SELECT count(*) FROM receipt_ranges").decode(Int64.self, row: 0, column: 0)

        let publisher = try Self.client(daemon, "rchq", tokens)
        let started = ContinuousClock.now
        let count = 100
        var seqs: [Int64] = []
        for n in 0..<count { seqs.append(try Self.publish(publisher, "net.fan.\(n)", flash: false)) }
        #expect(try Self.messages(subscriber, count: count * fanOut).count == count * fanOut)
        let last = try #require(seqs.last)
        try await Self.wait(
            until: {
                try connection.query("SELECT count(*) FROM audit_deliveries WHERE seq = $1", [last.postgresBind])
                    .decode(Int64.self, row: 0, column: 0) == Int64(fanOut)
            },
            "the last message's receipts"
        )
        let elapsed = ContinuousClock.now - started
        let rows =
            try connection.query("SELECT count(*) FROM receipt_ranges").decode(Int64.self, row: 0, column: 0) - before
        // At most one delivery range per subscription and flush (1 s) while it ran, plus one.
        let flushes = Int64(elapsed.components.seconds) + 2
        #expect(rows <= Int64(fanOut) * flushes, "\(rows) rows in \(elapsed)")
        #expect(rows < Int64(count * fanOut), "\(rows) rows for \(count * fanOut) deliveries")
        for seq in [seqs[0], seqs[count / 2]] {
            let delivered = try connection.query(
                "SELECT count(*) FROM audit_deliveries WHERE seq = $1",
                [seq.postgresBind]
            )
            #expect(try delivered.decode(Int64.self, row: 0, column: 0) == Int64(fanOut))
        }
        await daemon.stop()
    }
}

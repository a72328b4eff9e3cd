import Foundation
import Testing

/// `pub` and `sub` against a real `liaisond` child process.
@Suite(.cliDatabase, .serialized)
struct LiveDaemonTests {
    private static func environment(_ daemon: Daemon, token: String) -> [String: String] {
        ["LIAISON_SERVER": "127.0.0.1:\(daemon.port)", "LIAISON_ACCOUNT": "ohchr", "LIAISON_TOKEN": token]
    }

    private static func withDaemon(_ body: (Daemon, [String: String]) async throws -> Void) async throws {
        let imported = try await CLIDatabase.run([
            "account", "import", CLI.packageRoot.appendingPathComponent("config/network.json").path,
        ])
        try #require(imported.status == 0, "\(imported)")
        let issued = try await CLIDatabase.run(["token", "issue", "ohchr"])
        let token = try #require(issued.lines.first, "\(issued)")
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL())
        do {
            try await body(daemon, Self.environment(daemon, token: token))
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }

    @Test func publishedMessagesComeBackThroughSub() async throws {
        try await Self.withDaemon { _, environment in
            let text = try await CLI.run(
                ["pub", "hq.ohchr.guidance-note", "Recommendation 19"],
                environment: environment
            )
            #expect(text.status == 0, "\(text)")
            let firstSeq = try #require(text.lines.first.flatMap { Int64($0.dropFirst("seq ".count)) }, "\(text)")
            #expect(text.lines == ["seq \(firstSeq)"])

            let binary: [UInt8] = Array("line 1\r\nline 2".utf8) + [0, 0xFF]
            let piped = try await CLI.run(
                ["pub", "hq.ohchr.annex", "--header", "prio=urgent"],
                environment: environment,
                stdin: binary
            )
            #expect(piped.lines == ["seq \(firstSeq + 1)"], "\(piped)")

            let sub = try await CLI.run(
                ["sub", "hq.>", "--from", "all", "--count", "2", "--timeout-ms", "10000", "--format", "jsonl"],
                environment: environment
            )
            #expect(sub.status == 0, "\(sub)")
            try #require(sub.lines.count == 2, "\(sub)")
            let objects = try sub.lines.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
            #expect(objects[0]["seq"] as? Int64 == firstSeq)
            #expect(objects[0]["topic"] as? String == "hq.ohchr.guidance-note")
            #expect(objects[0]["account"] as? String == "ohchr")
            #expect(objects[1]["headers"] as? [String: String] == ["prio": "urgent"])
            let base64 = try #require(objects[1]["payload_base64"] as? String)
            #expect(Data(base64Encoded: base64).map(Array.init) == binary)

            let plain = try await CLI.run(
                ["sub", "hq.ohchr.guidance-note", "--from", "all", "--count", "1", "--timeout-ms", "10000"],
                environment: environment
            )
            #expect(plain.status == 0, "\(plain)")
            let line = try #require(plain.lines.first)
            #expect(line.hasPrefix("[\(firstSeq)] hq.ohchr.guidance-note ohchr "))
            #expect(line.hasSuffix(": Recommendation 19"))

            // A payload with CR, LF, NUL and an invalid byte still prints as one line of text.
            let annex = try await CLI.run(
                ["sub", "hq.ohchr.annex", "--from", "all", "--count", "1", "--timeout-ms", "10000"],
                environment: environment
            )
            #expect(annex.lines.count == 1, "\(annex)")
            #expect(annex.lines.first?.hasSuffix(" prio=urgent: line 1..line 2..") == true, "\(annex)")
        }
    }

    @Test func subAsADurableConsumerResumesWhereItStopped() async throws {
        try await Self.withDaemon { _, environment in
            let first = try await CLI.run(["pub", "hq.ohchr.durable", "first"], environment: environment)
            let firstSeq = try #require(first.lines.first.flatMap { Int64($0.dropFirst("seq ".count)) }, "\(first)")
            let durable = [
                "sub", "hq.ohchr.durable", "--durable", "cli", "--ack", "--count", "1", "--timeout-ms", "10000",
            ]
            let got = try await CLI.run(durable + ["--from", "all"], environment: environment)
            #expect(got.status == 0, "\(got)")
            #expect(got.lines.first?.hasPrefix("[\(firstSeq)] ") == true, "\(got)")

            let second = try await CLI.run(["pub", "hq.ohchr.durable", "second"], environment: environment)
            #expect(second.status == 0, "\(second)")
            // Resumes after what it acknowledged: the second message, not the first again.
            let resumed = try await CLI.run(durable, environment: environment)
            #expect(resumed.lines.first?.hasPrefix("[\(firstSeq + 1)] ") == true, "\(resumed)")
            // Moving an existing durable needs --reset.
            let refused = try await CLI.run(durable + ["--from", "all"], environment: environment)
            #expect(refused.status != 0, "\(refused)")
            #expect(refused.stderr.contains("409"), "\(refused)")
            let reset = try await CLI.run(durable + ["--from", "all", "--reset"], environment: environment)
            #expect(reset.lines.first?.hasPrefix("[\(firstSeq)] ") == true, "\(reset)")
            let usage = try await CLI.run(["sub", "hq.>", "--reset"], environment: environment)
            #expect(usage.status == 64, "\(usage)")
        }
    }

    @Test func subTimesOutQuietlyAndBadCredentialsFail() async throws {
        try await Self.withDaemon { _, environment in
            let quiet = try await CLI.run(["sub", "field.zz.>", "--timeout-ms", "300"], environment: environment)
            #expect(quiet.status == 0, "\(quiet)")
            #expect(quiet.stdout.isEmpty)

            var wrong = environment
            wrong["LIAISON_TOKEN"] = "lia_not-a-real-token"
            let refused = try await CLI.run(["pub", "hq.ohchr.x", "text"], environment: wrong)
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.hasPrefix("liaisonctl: error: server replied ERR 401"), "\(refused)")
        }
    }
}

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// TLS certificate rotation with `SIGHUP` (docs/OPERATIONS.md, "TLS certificate rotation"): new
/// files written over the old ones are used by the next TLS connection; a broken file is refused
/// and the running certificate stays.
@Suite(.cliDatabase, .serialized)
struct TLSReloadTests {
    /// Makes a CA and a server certificate in `directory` with `deploy/make-certs.sh`.
    private static func makeCertificates(in directory: URL) async throws {
        let script = CLI.packageRoot.appendingPathComponent("deploy/make-certs.sh").path
        let (status, output) = try await ProcessClient.onThread {
            try PrivateCluster.run(["/bin/bash", script, directory.path, "ohchr"])
        }
        try #require(status == 0, "make-certs.sh: \(output)")
    }

    /// The TLS listener's port, from the daemon's `listening (TLS)` log line (it may come after
    /// the plaintext listener's, which is what ``Daemon`` waits for).
    private static func tlsPort(_ daemon: Daemon) async throws -> Int {
        try await Polling.until("the TLS listener's log line", within: .seconds(20)) {
            daemon.logText.split(separator: "\n").contains { $0.hasSuffix("listening (TLS)") }
        }
        let line = try #require(daemon.logText.split(separator: "\n").first { $0.hasSuffix("listening (TLS)") })
        let address = try #require(line.split(separator: " ").first { $0.hasPrefix("address=") })
        return try #require(Int(address[address.index(after: address.lastIndex(of: ":")!)...]))
    }

    private static func copyServerFiles(from source: URL, to live: URL) throws {
        for name in ["server.pem", "server.key"] {
            let data = try Data(contentsOf: source.appendingPathComponent(name))
            try data.write(to: live.appendingPathComponent(name), options: .atomic)
        }
    }

    @Test func aRenewedCertificateIsUsedAfterSIGHUPAndABrokenOneIsRefused() async throws {
        let token = try #require(try await Daemon.issueTokens(for: ["ohchr"])["ohchr"])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-tls-reload-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        let (old, new, live) = (
            root.appendingPathComponent("old"), root.appendingPathComponent("new"), root.appendingPathComponent("live")
        )
        try await Self.makeCertificates(in: old)
        try await Self.makeCertificates(in: new)
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: true)
        try Self.copyServerFiles(from: old, to: live)
        let config = root.appendingPathComponent("liaisond.json")
        let settings = """
            {"tls": {"listen": "127.0.0.1:0", "certificate": "\(live.path)/server.pem", "privateKey": "\(live.path)/server.key"}}
            """
        try Data(settings.utf8).write(to: config)
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL(), arguments: ["--config", config.path])
        defer { Task { await daemon.stop() } }
        let port = try await Self.tlsPort(daemon)
        let environment = ["LIAISON_ACCOUNT": "ohchr", "LIAISON_TOKEN": token, "LIAISON_SERVER": "127.0.0.1:\(port)"]
        func publish(trusting ca: URL) async throws -> CLIResult {
            try await CLI.run(
                ["pub", "--ca", ca.appendingPathComponent("ca.pem").path, "hq.ohchr.tls-reload", "rotated"],
                environment: environment
            )
        }
        #expect(try await publish(trusting: old).status == 0)

        try Self.copyServerFiles(from: new, to: live)
        kill(daemon.pid, SIGHUP)
        try await Polling.until("configuration reloaded", within: .seconds(10)) {
            daemon.logText.contains("configuration reloaded")
        }
        let renewed = try await publish(trusting: new)
        #expect(renewed.status == 0, "\(renewed)")
        let stale = try await publish(trusting: old)
        #expect(stale.status == 1 && stale.stderr.contains("TLS failed"), "\(stale)")

        try Data("not a certificate\n".utf8).write(to: live.appendingPathComponent("server.pem"))
        kill(daemon.pid, SIGHUP)
        try await Polling.until("configuration reload refused", within: .seconds(10)) {
            daemon.logText.contains("configuration reload refused")
        }
        let refusal = daemon.logText.split(separator: "\n").first { $0.contains("configuration reload refused") }
        #expect(
            refusal?.contains("code=64") == true && refusal?.contains("(tls.certificate)") == true,
            "\(daemon.logText)"
        )
        let kept = try await publish(trusting: new)
        #expect(kept.status == 0, "the renewed certificate should still be served: \(kept)")
    }
}

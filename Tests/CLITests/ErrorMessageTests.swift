import Foundation
import Testing

/// What a user reads when the daemon or the database is not where the settings say: what failed,
/// where, and what to try, not SwiftNIO's or libpq's dumps.
@Suite struct ErrorMessageTests {
    @Test func pubWithNoDaemonSaysWhereAndWhatToTry() async throws {
        let port = try Self.unusedPort()
        let result = try await CLI.run(
            ["pub", "hq.ohchr.note", "text"],
            environment: ["LIAISON_SERVER": "127.0.0.1:\(port)", "LIAISON_ACCOUNT": "ohchr", "LIAISON_TOKEN": "t"]
        )
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stderr
                == "liaisonctl: error: cannot connect to 127.0.0.1:\(port): connection refused — "
                + "is liaisond running? set --server or LIAISON_SERVER\n",
            "\(result)"
        )
        #expect(result.stdout.isEmpty)
    }

    @Test func adminCommandWithNoDatabaseNamesItWithoutThePassword() async throws {
        let port = try Self.unusedPort()
        let result = try await CLI.run([
            "account", "list", "--database-url", "postgresql://liaison:s3cret@127.0.0.1:\(port)/liaison",
        ])
        #expect(result.status == 1, "\(result)")
        let prefix =
            "liaisonctl: error: cannot connect to the database postgresql://liaison:***@127.0.0.1:\(port)/liaison: "
        #expect(result.stderr.hasPrefix(prefix), "\(result)")
        #expect(result.stderr.contains("Connection refused"), "\(result)")
        #expect(
            result.stderr.hasSuffix("— is PostgreSQL running there? set --database-url or LIAISON_DATABASE_URL\n"),
            "\(result)"
        )
        #expect(!result.stderr.contains("s3cret"), "\(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result)")
    }

    @Test func migrateWithNoDatabaseSaysTheSame() async throws {
        let port = try Self.unusedPort()
        let result = try await CLI.run(
            ["migrate", "--status"],
            environment: ["LIAISON_DATABASE_URL": "host=127.0.0.1 port=\(port) dbname=liaison password=s3cret"]
        )
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stderr.hasPrefix(
                "liaisonctl: error: cannot connect to the database host=127.0.0.1 port=\(port) dbname=liaison password=***: "
            ),
            "\(result)"
        )
        #expect(!result.stderr.contains("s3cret"), "\(result)")
    }

    @Test func daemonWithNoDatabaseNamesItWithoutThePassword() async throws {
        let port = try Self.unusedPort()
        let result = try await CLI.run(
            ["--listen", "127.0.0.1:0", "--database-url", "postgresql://liaison:s3cret@127.0.0.1:\(port)/liaison"],
            program: "liaisond"
        )
        #expect(result.status == 69, "\(result)")
        #expect(
            result.stderr.contains(
                "cannot start: cannot connect to the database postgresql://liaison:***@127.0.0.1:\(port)/liaison: "
            ),
            "\(result)"
        )
        #expect(result.stderr.contains("— is PostgreSQL running there, and the URL right?"), "\(result)")
        #expect(!result.stderr.contains("s3cret"), "\(result)")
    }

    /// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
    static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        try #require(bound, "bind: errno \(errno)")
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Start-up errors of `liaisond` that need a migrated database to get past the schema check.
@Suite(.cliDatabase, .serialized)
struct DaemonStartupErrorTests {
    @Test func aSecondDaemonOnTheSamePortSaysWhichAddressIsInUse() async throws {
        let url = try CLIDatabase.currentURL()
        let first = try await Daemon(databaseURL: url)
        let second = try await CLI.run(
            ["--listen", "127.0.0.1:\(first.port)", "--database-url", url],
            program: "liaisond"
        )
        await first.stop()
        #expect(second.status == 71, "\(second)")
        #expect(
            second.stderr.contains(
                "cannot start: cannot listen on 127.0.0.1:\(first.port): address already in use — "
                    + "another liaisond running? set --listen / LIAISON_LISTEN"
            ),
            "\(second)"
        )
        #expect(!second.stderr.contains("errno"), "\(second)")
    }
}

import Foundation
import Testing

/// Reported: many short connections (connect, AUTH, SUB, close) grew the daemon's memory by
/// about 2.3 KiB each, never returned (6,000 cycles: +13.5 MiB): the session, its context and
/// its router sink kept each other alive. Measured on the real process.
@Suite(.cliDatabase, .serialized)
struct ConnectionChurnMemoryTests {
    /// Cycles after the warm-up; before the fix this many would leave about 23 MiB behind.
    private static let cycles = 10_000
    /// Allowed growth of VmRSS over the measured cycles: allocator slack, not per-connection state
    /// (before the fix: 2.3 KiB × 10,000 ≈ 23 MiB).
    private static let bound = 4 << 20

    @Test(.timeLimit(.minutes(10))) func tenThousandShortConnectionsLeaveNoMemoryBehind() async throws {
        let account = "unhcr-mm-sittwe"
        let token = try #require(try await Daemon.issueTokens(for: [account])[account])
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL())
        let port = daemon.port
        let churn: @Sendable (Int) async throws -> Void = { count in
            try await ProcessClient.onThread {
                for index in 0..<count {
                    let client = try ProcessClient(port: port)
                    try client.authenticate(account: account, token: token)
                    let reply = try client.command("SUB s\(index % 7) field.mm.> durable=churn-\(index % 3)")
                    guard reply.hasPrefix("OK SUB") || reply.hasPrefix("ERR 409") else {
                        throw DaemonFailure(description: "SUB answered \(reply)")
                    }
                    _ = client  // closed when it goes out of scope (deinit)
                }
            }
        }
        try await churn(1_000)  // warm-up: pools, caches and allocator arenas reach their size
        try await Task.sleep(for: .milliseconds(500))
        let before = try #require(daemon.residentBytes())
        try await churn(Self.cycles)
        try await Task.sleep(for: .seconds(1))
        let after = try #require(daemon.residentBytes())
        #expect(
            after - before < Self.bound,
            "VmRSS grew by \((after - before) >> 10) KiB over \(Self.cycles) connections (before \(before >> 20) MiB)"
        )
        await daemon.stop()
    }
}

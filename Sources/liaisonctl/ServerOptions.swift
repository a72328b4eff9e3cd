import ArgumentParser
import Foundation
import LiaisonClient

/// Where the daemon is and who to authenticate as, shared by `pub`, `sub` and `bench`.
struct ServerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The daemon as HOST:PORT (default: $LIAISON_SERVER or 127.0.0.1:7420).",
            valueName: "host:port"
        )
    )
    var server: String?

    @Option(help: ArgumentHelp("The account to AUTH as (default: $LIAISON_ACCOUNT).", valueName: "name"))
    var account: String?

    @Option(help: ArgumentHelp("The account's token (default: $LIAISON_TOKEN).", valueName: "token"))
    var token: String?

    private static let environment = ProcessInfo.processInfo.environment

    /// The host and port to connect to.
    var address: (host: String, port: Int) {
        get throws {
            let text =
                self.server ?? Self.environment["LIAISON_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
                ?? "127.0.0.1:7420"
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (1...65535).contains(port)
            else {
                throw ValidationError("--server must be HOST:PORT, got '\(text)'")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") {
                host = String(host.dropFirst().dropLast())
            }
            guard !host.isEmpty else {
                throw ValidationError("--server must be HOST:PORT, got '\(text)'")
            }
            return (host, port)
        }
    }

    /// The account and token, from the options or the environment.
    var credentials: (account: String, token: String) {
        get throws {
            guard let account = self.account ?? Self.environment["LIAISON_ACCOUNT"], !account.isEmpty else {
                throw ValidationError("no account: pass --account or set LIAISON_ACCOUNT")
            }
            guard let token = self.token ?? Self.environment["LIAISON_TOKEN"], !token.isEmpty else {
                throw ValidationError("no token: pass --token or set LIAISON_TOKEN")
            }
            return (account, token)
        }
    }

    func validate() throws {
        _ = try self.address
        _ = try self.credentials
    }

    /// Connects to the daemon and authenticates.
    func connect() async throws -> LiaisonClient {
        let (host, port) = try self.address
        let (account, token) = try self.credentials
        let client = try await LiaisonClient.connect(host: host, port: port)
        do {
            try await client.auth(account: account, token: token)
        } catch {
            await client.close()
            throw error
        }
        return client
    }
}

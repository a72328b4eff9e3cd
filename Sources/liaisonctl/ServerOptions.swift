import ArgumentParser
import Foundation
import LiaisonClient

/// Where the daemon is, how to reach it (plaintext or TLS) and who to authenticate as, shared by
/// `pub`, `sub` and `bench`.
///
/// With a client certificate (`--cert`/`--key`, mutual TLS) the daemon takes the account from the
/// certificate, so no `AUTH` is sent and no token is needed.
struct ServerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The daemon as HOST:PORT (default: $LIAISON_SERVER, else 127.0.0.1:7420, or 127.0.0.1:7443 with TLS).",
            valueName: "host:port"
        )
    )
    var server: String?

    @Flag(help: "Connect with TLS (implied by --ca, --cert; default: $LIAISON_TLS=1).")
    var tls = false

    @Option(
        name: .customLong("ca"),
        help: ArgumentHelp(
            "PEM CA certificate(s) to trust for the daemon (default: $LIAISON_TLS_CA, else the system's).",
            valueName: "file"
        )
    )
    var caFile: String?

    @Option(
        name: .customLong("cert"),
        help: ArgumentHelp(
            "PEM client certificate for mutual TLS; its CN names the account (default: $LIAISON_TLS_CERT).",
            valueName: "file"
        )
    )
    var certificateFile: String?

    @Option(
        name: .customLong("key"),
        help: ArgumentHelp("PEM private key of --cert (default: $LIAISON_TLS_KEY).", valueName: "file")
    )
    var keyFile: String?

    @Option(
        help: ArgumentHelp(
            "The name the daemon's certificate must carry (default: $LIAISON_TLS_SERVER_NAME, else the host).",
            valueName: "name"
        )
    )
    var serverName: String?

    @Option(help: ArgumentHelp("The account to AUTH as (default: $LIAISON_ACCOUNT).", valueName: "name"))
    var account: String?

    @Option(
        help: ArgumentHelp(
            "The account's token (default: $LIAISON_TOKEN). Avoid it: a command line is readable by "
                + "every user of the machine (ps, /proc/<pid>/cmdline); set LIAISON_TOKEN or use --token-file.",
            valueName: "token"
        )
    )
    var token: String?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp(
            "Read the token from this file, surrounding whitespace trimmed (default: $LIAISON_TOKEN_FILE). "
                + "Keeps the token out of the process list; make the file readable by you only.",
            valueName: "path"
        )
    )
    var tokenFile: String?

    private static let environment = ProcessInfo.processInfo.environment

    /// An environment variable, with an empty value taken as unset.
    private static func env(_ name: String) -> String? {
        Self.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The TLS options, or `nil` for plaintext.
    var tlsOptions: TLSOptions? {
        get throws {
            let options = TLSOptions(
                caPath: self.caFile ?? Self.env("LIAISON_TLS_CA"),
                certificatePath: self.certificateFile ?? Self.env("LIAISON_TLS_CERT"),
                privateKeyPath: self.keyFile ?? Self.env("LIAISON_TLS_KEY"),
                serverName: self.serverName ?? Self.env("LIAISON_TLS_SERVER_NAME")
            )
            guard (options.certificatePath == nil) == (options.privateKeyPath == nil) else {
                throw ValidationError("--cert and --key go together (or LIAISON_TLS_CERT and LIAISON_TLS_KEY)")
            }
            let wanted =
                self.tls || ["1", "true", "yes"].contains(Self.env("LIAISON_TLS")?.lowercased() ?? "")
                || options.caPath != nil || options.certificatePath != nil
            return wanted ? options : nil
        }
    }

    /// The host and port to connect to.
    var address: (host: String, port: Int) {
        get throws {
            let fromEnvironment = self.server == nil ? Self.env("LIAISON_SERVER") : nil
            let text =
                try self.server ?? fromEnvironment
                ?? (self.tlsOptions == nil ? "127.0.0.1:7420" : "127.0.0.1:7443")
            // Name where the bad value came from: a user who never typed --server would look for it.
            let source = fromEnvironment == nil ? "--server" : "LIAISON_SERVER"
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (1...65535).contains(port)
            else {
                throw ValidationError("\(source) must be HOST:PORT, got '\(text)'")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") {
                host = String(host.dropFirst().dropLast())
            }
            guard !host.isEmpty else {
                throw ValidationError("\(source) must be HOST:PORT, got '\(text)'")
            }
            return (host, port)
        }
    }

    /// The account, from the option or the environment.
    private var accountName: String {
        get throws {
            guard let account = self.account ?? Self.environment["LIAISON_ACCOUNT"], !account.isEmpty else {
                throw ValidationError("no account: pass --account or set LIAISON_ACCOUNT")
            }
            return account
        }
    }

    /// Where the token comes from: `--token`, `--token-file`, `LIAISON_TOKEN`, `LIAISON_TOKEN_FILE`,
    /// the first that is set.
    private var tokenSource: TokenSource {
        get throws {
            if let token = self.token, !token.isEmpty { return .text(token) }
            if let tokenFile = self.tokenFile, !tokenFile.isEmpty { return .file(tokenFile) }
            if let token = Self.env("LIAISON_TOKEN") { return .text(token) }
            if let tokenFile = Self.env("LIAISON_TOKEN_FILE") { return .file(tokenFile) }
            throw ValidationError("no token: set LIAISON_TOKEN, or pass --token-file (or set LIAISON_TOKEN_FILE)")
        }
    }

    /// The account and token, from the options or the environment; a token file is read here.
    ///
    /// - Throws: `ValidationError` when either is missing; ``CLIFailure`` for an unreadable or
    ///   empty token file.
    var credentials: (account: String, token: String) {
        get throws {
            let account = try self.accountName
            switch try self.tokenSource {
            case .text(let token): return (account, token)
            case .file(let path): return (account, try TokenSource.read(path))
            }
        }
    }

    /// Whether a client certificate authenticates the connection, so no `AUTH` is sent.
    private var authenticatesWithCertificate: Bool {
        get throws { try self.tlsOptions?.certificatePath != nil }
    }

    func validate() throws {
        _ = try self.address
        if try self.authenticatesWithCertificate {
            if self.account != nil || self.token != nil || self.tokenFile != nil {
                throw ValidationError(
                    "--cert authenticates as the account its certificate names: drop --account and --token"
                )
            }
        } else {
            if self.token != nil, self.tokenFile != nil {
                throw ValidationError("pass the token with --token or --token-file, not both")
            }
            // The file is read when connecting, so that an unreadable one exits 1 like other files.
            _ = try self.accountName
            _ = try self.tokenSource
        }
    }

    /// Connects to the daemon and authenticates (with `AUTH`, or by the client certificate).
    func connect() async throws -> LiaisonClient {
        let (host, port) = try self.address
        let tls = try self.tlsOptions
        // Read first: a token file that cannot be read is the error to report, not the connection.
        let credentials: (account: String, token: String)? =
            try self.authenticatesWithCertificate ? nil : self.credentials
        let client: LiaisonClient
        do {
            client = try await LiaisonClient.connect(host: host, port: port, tls: tls)
        } catch {
            guard let message = ConnectionErrorText.describe(error, host: host, port: port) else { throw error }
            throw CLIFailure(message)
        }
        guard let credentials else { return client }
        do {
            try await client.auth(account: credentials.account, token: credentials.token)
        } catch {
            await client.close()
            throw error
        }
        return client
    }
}

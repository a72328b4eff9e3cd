import Foundation
import LiaisonServer
import LiaisonStore
import NIOCore
import Postgres

/// Says why the daemon could not start, where, and what to try, in place of SwiftNIO's and libpq's
/// bare messages: `cannot listen on 127.0.0.1:7420: address already in use — …`.
enum StartupErrorText {
    /// The message for a listener that could not be opened, naming the configured address(es).
    ///
    /// - Returns: The message, or `nil` when `error` is not one of binding a socket.
    static func listen(_ error: any Error, configuration: ServerConfiguration) -> String? {
        // The server opens the plaintext listener, then the TLS one; the error does not say which
        // failed, so with both configured the message names both.
        var addresses: [String] = []
        var settings: [String] = []
        if configuration.plaintextEnabled {
            addresses.append(Self.address(configuration.host, configuration.port))
            settings.append("--listen / LIAISON_LISTEN")
        }
        if let tls = configuration.tls {
            addresses.append(Self.address(tls.host, tls.port) + " (TLS)")
            settings.append("tls.listen / LIAISON_TLS_LISTEN")
        }
        let place = addresses.joined(separator: " or ")
        let fix = "set " + settings.joined(separator: " or ")
        let reason: String
        switch error {
        case let error as IOError:
            switch error.errnoCode {
            case EADDRINUSE: reason = "address already in use — another liaisond running? \(fix)"
            case EACCES: reason = "permission denied — ports below 1024 need root or CAP_NET_BIND_SERVICE; \(fix)"
            case EADDRNOTAVAIL: reason = "the address is not one of this machine's — \(fix)"
            default: reason = "\(String(cString: strerror(error.errnoCode)).lowercased()) — \(fix)"
            }
        case is SocketAddressError:
            reason = "cannot resolve the host — \(fix)"
        default:
            return nil
        }
        return "cannot listen on \(place): \(reason)"
    }

    /// The message for a database that cannot be reached at start, naming it without its password.
    static func database(_ error: any Error, url: String) -> String {
        let text = (error as? PostgresError)?.message ?? (error as? StoreError)?.message ?? "\(error)"
        // libpq's first line says what failed; its second repeats the hint below.
        let detail = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        return "cannot connect to the database \(Self.redacted(url)): \(detail) — is PostgreSQL running there, "
            + "and the URL right? set --database-url, LIAISON_DATABASE_URL or database.url"
    }

    /// `HOST:PORT`, with an IPv6 host in brackets.
    private static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `url` with its password, in a URI (`user:secret@`, `?password=`) or a `key=value` string,
    /// replaced by `***`.
    static func redacted(_ url: String) -> String {
        let patterns = [
            (#"(://[^/:@]*):[^@/]*@"#, "$1:***@"),
            (#"([?&]password=)[^&]*"#, "$1***"),
            (#"(^|\s)password\s*=\s*('([^'\\]|\\.)*'|\S+)"#, "$1password=***"),
        ]
        return patterns.reduce(url) { text, pattern in
            text.replacingOccurrences(of: pattern.0, with: pattern.1, options: .regularExpression)
        }
    }
}

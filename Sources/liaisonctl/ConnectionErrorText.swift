import Foundation
import LiaisonClient
import NIOCore
import NIOPosix

/// Says why connecting to the daemon failed, where, and what to try, in place of SwiftNIO's
/// error dumps: `cannot connect to 127.0.0.1:7420: connection refused — is liaisond running? …`.
enum ConnectionErrorText {
    /// What to try when nothing answers at the address.
    static let notRunning = "is liaisond running? set --server or LIAISON_SERVER"

    /// The message for an error of connecting to `host:port` (greeting included).
    ///
    /// - Returns: The message, or `nil` when `error` is not one of connecting (a server reply, say).
    static func describe(_ error: any Error, host: String, port: Int) -> String? {
        guard let reason = Self.reason(error) else { return nil }
        return "cannot connect to \(Self.address(host, port)): \(reason)"
    }

    /// `HOST:PORT`, with an IPv6 host in brackets.
    static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// What failed and what to try, or `nil` when `error` is not a connection failure.
    private static func reason(_ error: any Error) -> String? {
        switch error {
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil || error.connectionErrors.isEmpty {
                return "cannot resolve host '\(error.host)' — check the name in --server or LIAISON_SERVER"
            }
            // One attempt per address of the host; the first says it for all in practice.
            return Self.reason(error.connectionErrors[0].error)
        case let error as IOError:
            return Self.reason(errno: error.errnoCode)
        case ChannelError.connectTimeout(let amount):
            let seconds = amount.nanoseconds / 1_000_000_000
            return "no answer within \(seconds) s — is the host reachable and liaisond listening on that port? "
                + "set --server or LIAISON_SERVER"
        case is SocketAddressError:
            return "cannot resolve the host — check the name in --server or LIAISON_SERVER"
        case let error as ClientError:
            switch error.code {
            case .tls:
                return "\(error.message) — check --ca, --cert, --key and --server-name (or LIAISON_TLS_*)"
            case .badGreeting:
                return "\(error.message) — is liaisond listening there? set --server or LIAISON_SERVER"
            case .connectionClosed:
                return "\(error.message) before its greeting — is liaisond listening there (with --tls if it "
                    + "expects TLS)? set --server or LIAISON_SERVER"
            default:
                return nil
            }
        default:
            return nil
        }
    }

    /// The words for a `connect(2)` errno.
    private static func reason(errno code: CInt) -> String {
        switch code {
        case ECONNREFUSED:
            return "connection refused — \(Self.notRunning)"
        case ETIMEDOUT:
            return "timed out — is the host reachable (no firewall in between)? set --server or LIAISON_SERVER"
        case EHOSTUNREACH:
            return "host unreachable — check the network, or set --server or LIAISON_SERVER"
        case ENETUNREACH:
            return "network unreachable — check the network, or set --server or LIAISON_SERVER"
        case EADDRNOTAVAIL:
            return "address not available — check the host in --server or LIAISON_SERVER"
        case ECONNRESET:
            return "the connection was reset — is liaisond (and not another service) listening there?"
        case ENOENT:
            return "no such address — check --server or LIAISON_SERVER"
        default:
            return "\(String(cString: strerror(code)).lowercased()) (errno \(code)) — set --server or LIAISON_SERVER"
        }
    }
}

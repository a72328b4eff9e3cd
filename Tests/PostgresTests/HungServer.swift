import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listener on 127.0.0.1 that accepts connections and then stops answering: what a
/// PostgreSQL whose processes are stopped looks like to a client (the kernel still completes the
/// TCP handshake).
final class HungServer: Sendable {
    /// When it stops answering.
    enum Silence {
        /// At once: not even the startup handshake is answered.
        case beforeStartup
        /// After a successful startup (AuthenticationOk, ReadyForQuery): the connection opens, and
        /// the first query gets no answer.
        case afterStartup
    }

    /// The port it listens on, chosen by the kernel.
    let port: UInt16
    private let silence: Silence
    private let listener: Int32
    private let accepted = Mutex<[Int32]>([])

    /// Opens the listener and starts accepting on a thread of its own.
    ///
    /// - Parameter silence: When to stop answering.
    /// - Throws: `POSIXError` when the socket cannot be set up.
    init(silence: Silence = .beforeStartup) throws {
        self.silence = silence
        let descriptor = socket(AF_INET, Self.streamType, 0)
        guard descriptor >= 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else {
            let code = POSIXErrorCode(rawValue: errno) ?? .EIO
            close(descriptor)
            throw POSIXError(code)
        }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptForever() }
        thread.name = "pgtests-hung-server"
        thread.start()
    }

    /// The URL of a database on this server, without SSL or GSS negotiation (which it does not speak).
    var url: String { "postgresql://liaison@127.0.0.1:\(port)/postgres?sslmode=disable&gssencmode=disable" }

    /// How many connections it accepted so far.
    var acceptedCount: Int { accepted.withLock { $0.count } }

    /// Stops accepting and closes every accepted connection.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for descriptor in accepted.withLock({ $0 }) {
            close(descriptor)
        }
    }

    private func acceptForever() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR {
                    continue
                }
                return
            }
            accepted.withLock { $0.append(client) }
            if silence == .afterStartup {
                answerStartup(client)
            }
        }
    }

    /// Reads the startup message and answers as a trusting server would (PostgreSQL manual,
    /// "Frontend/Backend Protocol", "Start-up"): AuthenticationOk, BackendKeyData, ReadyForQuery.
    private func answerStartup(_ client: Int32) {
        guard let header = readExactly(client, 4) else {
            return
        }
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard length >= 8, readExactly(client, length - 4) != nil else {
            return
        }
        let reply: [UInt8] =
            [0x52, 0, 0, 0, 8, 0, 0, 0, 0]  // 'R' AuthenticationOk
            + [0x4B, 0, 0, 0, 12, 0, 0, 0x30, 0x39, 0, 0, 0, 1]  // 'K' BackendKeyData, pid 12345
            + [0x5A, 0, 0, 0, 5, 0x49]  // 'Z' ReadyForQuery, idle
        _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
    }

    private func readExactly(_ descriptor: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + filled, count - filled, 0) }
            guard got > 0 else {
                return nil
            }
            filled += got
        }
        return bytes
    }

    #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    private static let streamType = SOCK_STREAM
    #endif
}

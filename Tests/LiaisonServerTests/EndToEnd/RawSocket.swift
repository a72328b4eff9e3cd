import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP socket that sends nothing and reads until the peer closes: a client that
/// never answers, which the client library (which answers PING) cannot play.
struct RawSocket: Sendable {
    private let fd: Int32

    init(port: Int, receiveBuffer: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        if var size = receiveBuffer {
            // Small, so a reader that pauses pushes back on the daemon quickly.
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        self.fd = fd
    }

    /// Sends text.
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(self.fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
    }

    /// Reads and parses `MSG` frames until `count` have arrived (other lines are skipped).
    ///
    /// - Returns: The seqs of the frames, in arrival order.
    func readMessages(count: Int, timeout: Duration) async throws -> [Int64] {
        try await Self.offPool { try self.readMessagesBlocking(count: count, timeout: timeout) }
    }

    private func readMessagesBlocking(count: Int, timeout: Duration) throws -> [Int64] {
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var cursor = 0
        var seqs: [Int64] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while seqs.count < count {
            // Parse every complete frame in the buffer.
            while let lf = data[cursor...].firstIndex(of: 10) {
                let line = String(decoding: data[cursor..<lf], as: UTF8.self)
                let parts = line.split(separator: " ")
                if parts.first == "MSG", parts.count >= 7, let size = Int(parts[6]) {
                    guard data.count >= lf + 1 + size + 1 else { break }
                    seqs.append(Int64(parts[2])!)
                    cursor = lf + 1 + size + 1
                } else {
                    cursor = lf + 1
                }
            }
            if seqs.count >= count { break }
            let n = read(self.fd, &chunk, chunk.count)
            guard n > 0 else { throw POSIXError(.ETIMEDOUT) }
            data += chunk[0..<n]
        }
        return seqs
    }

    /// Closes the socket.
    /// Runs a blocking read on a thread of its own: on the cooperative pool (two threads on this
    /// machine, shared by every test running in parallel) a read of up to 90 s would stall them all.
    private static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    func close() { Glibc.close(self.fd) }

    /// Shuts the write side down (`shutdown(SHUT_WR)`, as `nc -q` does at the end of its input):
    /// the daemon sees end of input and may still write.
    func shutdownWrite() { shutdown(self.fd, Int32(SHUT_WR)) }

    /// Reads everything until EOF or `timeout`, then closes.
    func readUntilClosed(timeout: Duration) async throws -> String {
        try await Self.offPool { try self.readUntilClosedBlocking(timeout: timeout) }
    }

    private func readUntilClosedBlocking(timeout: Duration) throws -> String {
        defer { Glibc.close(self.fd) }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(self.fd, &buffer, buffer.count)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }
}

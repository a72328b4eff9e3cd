import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Plain TCP sockets to 127.0.0.1, for tests that need what the client library hides (EOF
/// versus reset, raw bytes, exact timing).
public enum Loopback {
    /// Opens a blocking TCP socket connected to 127.0.0.1:`port`.
    ///
    /// - Parameter port: The TCP port.
    /// - Returns: The socket's file descriptor; the caller closes it.
    /// - Throws: `POSIXError` with the errno of `socket` or `connect` (`ECONNREFUSED` when nothing listens).
    public static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        return fd
    }
}

internal import CLibPQ

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

extension Connection {
    /// A NOTIFY received on a channel this connection listens to.
    ///
    /// Nested in `Connection` so it does not clash with Foundation's `Notification`.
    public struct Notification: Sendable, Hashable {
        /// The channel name, as given to `LISTEN`.
        public var channel: String
        /// The payload (empty when none was sent), at most 8000 bytes by default.
        public var payload: String
        /// The backend process ID of the session that sent it (compare with ``Connection/backendPID``
        /// to skip one's own).
        public var pid: Int32

        /// Creates a notification value.
        ///
        /// - Parameters:
        ///   - channel: The channel name.
        ///   - payload: The payload.
        ///   - pid: The sender's backend PID.
        public init(channel: String, payload: String, pid: Int32) {
            self.channel = channel
            self.payload = payload
            self.pid = pid
        }
    }

    /// Quotes an identifier for splicing into SQL (`PQescapeIdentifier`), for statements such as
    /// `LISTEN` that take no parameters.
    ///
    /// - Parameter identifier: The raw name, for example `liaison.messages`.
    /// - Returns: The name in double quotes with embedded quotes doubled.
    /// - Throws: `PostgresError(.invalidArgument)` when libpq rejects it (invalid encoding);
    ///   `.connectionLost` when closed.
    public func quoteIdentifier(_ identifier: String) throws -> String {
        let handle = try openHandle()
        let utf8 = Array(identifier.utf8)
        let quoted = utf8.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQescapeIdentifier(handle, $0.baseAddress, $0.count) }
        }
        guard let quoted else {
            throw PostgresError(connection: handle, fallbackCode: .invalidArgument, context: "quote identifier")
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    /// Starts listening on a channel (`LISTEN`); notifications are read by
    /// ``waitForNotifications(timeoutMilliseconds:)``.
    ///
    /// - Parameter channel: The channel name, quoted safely; case-sensitive.
    /// - Throws: `PostgresError` from the server or the connection.
    public func listen(_ channel: String) throws {
        try query("LISTEN " + quoteIdentifier(channel))
    }

    /// Stops listening on a channel (`UNLISTEN`).
    ///
    /// - Parameter channel: The channel name.
    /// - Throws: `PostgresError` from the server or the connection.
    public func unlisten(_ channel: String) throws {
        try query("UNLISTEN " + quoteIdentifier(channel))
    }

    /// Sends a notification (`SELECT pg_notify($1, $2)`); inside a transaction it is delivered at commit.
    ///
    /// - Parameters:
    ///   - channel: The channel name.
    ///   - payload: The payload, at most 7999 bytes with the default server settings.
    /// - Throws: `PostgresError(.server)` (22023 for a payload that is too long); `.connectionLost`.
    public func notify(_ channel: String, _ payload: String = "") throws {
        try query("SELECT pg_notify($1, $2)", [channel.postgresBind, payload.postgresBind])
    }

    /// Returns the notifications that arrived, waiting up to `timeoutMilliseconds` for the first one.
    ///
    /// Reads whatever the server already sent (`PQconsumeInput`, `PQnotifies`); when there is
    /// nothing, waits on the socket with `poll()`. The statement timeout does not apply: this is a
    /// wait, not a round trip.
    ///
    /// - Parameter timeoutMilliseconds: The longest wait in milliseconds; 0 only checks, a negative
    ///   value waits until something arrives.
    /// - Returns: The notifications in arrival order, empty after a timeout.
    /// - Throws: `PostgresError(.connectionLost)` when the connection broke.
    public func waitForNotifications(timeoutMilliseconds: Int) throws -> [Notification] {
        let handle = try openHandle()
        try consumeInput(handle)
        var received = takeNotifications(handle)
        let deadline =
            timeoutMilliseconds >= 0 ? ContinuousClock.now + .milliseconds(timeoutMilliseconds) : nil
        while received.isEmpty {
            guard try pollSocket(handle, Int16(POLLIN), until: deadline) != nil else {
                break
            }
            try consumeInput(handle)
            received = takeNotifications(handle)
        }
        return received
    }

    private func consumeInput(_ handle: OpaquePointer) throws {
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError(connection: handle, fallbackCode: .connectionLost, context: "read notifications")
        }
    }

    private func takeNotifications(_ handle: OpaquePointer) -> [Notification] {
        var received: [Notification] = []
        while let notify = PQnotifies(handle) {
            defer { PQfreemem(notify) }
            received.append(
                Notification(
                    channel: String(cString: notify.pointee.relname),
                    payload: notify.pointee.extra.map { String(cString: $0) } ?? "",
                    pid: notify.pointee.be_pid
                )
            )
        }
        return received
    }
}

import Postgres
import Synchronization

extension PostgresStorage {
    /// Takes the lease of a durable consumer on the consumer thread's connection.
    ///
    /// - Returns: False when another session (of any daemon) holds it.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    func takeLease(account: String, name: String, on connection: Connection) throws(StoreError) -> Bool {
        try self.renewLeases(on: connection)
        let lease = ConsumerLeases.Lease(account: account, name: name)
        if self.leases.withLock({ $0.held.contains(lease) }) { return true }
        let taken = try storeCall {
            try connection.query("SELECT pg_try_advisory_lock($1)", [lease.key.postgresBind])
                .decode(Bool.self, row: 0, column: 0)
        }
        if taken { self.leases.withLock { _ = $0.held.insert(lease) } }
        return taken
    }

    /// Frees a durable consumer's lease, if this daemon holds it.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database` (a broken connection freed it anyway).
    func freeLease(account: String, name: String, on connection: Connection) throws(StoreError) {
        let lease = ConsumerLeases.Lease(account: account, name: name)
        let (held, pid) = self.leases.withLock { leases in
            (leases.held.remove(lease) != nil, leases.backendPID)
        }
        guard held, pid == connection.backendPID else { return }
        _ = try storeCall { try connection.query("SELECT pg_advisory_unlock($1)", [lease.key.postgresBind]) }
    }

    /// On a connection other than the one the leases were taken on, takes each again; those
    /// another daemon took meanwhile are moved to ``ConsumerLeases/lost``.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    func renewLeases(on connection: Connection) throws(StoreError) {
        let pid = connection.backendPID
        let stale = self.leases.withLock { leases -> [ConsumerLeases.Lease] in
            guard leases.backendPID != pid else { return [] }
            return Array(leases.held)
        }
        var lost: [ConsumerLeases.Lease] = []
        for lease in stale {
            let taken = try storeCall {
                try connection.query("SELECT pg_try_advisory_lock($1)", [lease.key.postgresBind])
                    .decode(Bool.self, row: 0, column: 0)
            }
            if !taken { lost.append(lease) }
        }
        self.leases.withLock { leases in
            leases.backendPID = pid
            for lease in lost { leases.held.remove(lease) }
            leases.lost += lost
        }
    }
}

extension PostgresStorage: ConsumerLeasing {
    public func releaseConsumer(account: String, name: String) async throws {
        try await DeadlineCall.run("free consumer lease", on: self.consumers, deadline: self.deadline) { connection in
            try self.freeLease(account: account, name: name, on: connection)
        }
    }

    public func checkConsumerLeases() async throws -> [(account: String, name: String)] {
        try await DeadlineCall.run("check consumer leases", on: self.consumers, deadline: self.deadline) {
            connection in
            // A round trip finds a broken connection; the next job then renews on a new one.
            _ = try storeCall { try connection.query("SELECT 1") }
            try self.renewLeases(on: connection)
            return self.leases.withLock { leases in
                defer { leases.lost = [] }
                return leases.lost.map { LostLease(account: $0.account, name: $0.name) }
            }
        }.map { (account: $0.account, name: $0.name) }
    }
}

/// A lost lease as one `Sendable` value for crossing threads.
private struct LostLease: Sendable {
    var account: String
    var name: String
}

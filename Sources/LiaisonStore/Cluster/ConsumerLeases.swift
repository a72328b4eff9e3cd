/// The durable consumers whose lease this daemon holds: session-level advisory locks on the
/// consumer thread's connection, one per (account, name), so a durable consumer is bound by one
/// connection across every daemon on the database (docs/ARCHITECTURE.md, "Durable consumers").
///
/// PostgreSQL frees a session's advisory locks when its backend ends: a daemon killed with
/// SIGKILL loses its TCP connection, and its leases are free as soon as the server sees the close.
/// A new connection holds none of the old one's locks, so before the consumer thread uses a new
/// connection it takes every lease again (``PostgresStorage``); one another daemon took meanwhile
/// is *lost* and its session is ended.
struct ConsumerLeases: Sendable {
    /// A held lease: the advisory key and the consumer it stands for.
    struct Lease: Sendable, Hashable {
        var account: String
        var name: String

        /// The advisory lock key: the 64-bit FNV-1a hash of `account`, a zero byte and `name`
        /// (Fowler, Noll and Vo, http://www.isthe.com/chongo/tech/comp/fnv/), the same in every
        /// daemon (Swift's `Hasher` is seeded per process, so it cannot be used).
        var key: Int64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in Array(self.account.utf8) + [0] + Array(self.name.utf8) {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            return Int64(bitPattern: hash)
        }
    }

    /// Leases held on the connection with ``backendPID``.
    var held: Set<Lease> = []
    /// The backend PID of the connection the leases are held on (0: none yet).
    var backendPID: Int32 = 0
    /// Leases that could not be taken again on a new connection, not yet reported.
    var lost: [Lease] = []
}

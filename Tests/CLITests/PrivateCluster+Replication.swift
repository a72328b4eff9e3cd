import Foundation
import Postgres

/// PostgreSQL streaming replication between two ``PrivateCluster``s on this machine, for the
/// failover test (docs/OPERATIONS.md, "High availability").
extension PrivateCluster {
    /// Starts a streaming standby of this cluster (`pg-cluster.sh standby`: `pg_basebackup -R`
    /// from it, then started on a port of its own) and makes it synchronous: from then on a
    /// commit on this cluster returns only once the standby has flushed it
    /// (`synchronous_standby_names = '*'`, `synchronous_commit = on`).
    ///
    /// - Returns: The standby, read-only until ``promote()``.
    /// - Throws: ``DaemonFailure`` when the backup or the start fails, or the standby is not
    ///   reported synchronous within 30 s.
    func startSynchronousStandby() async throws -> PrivateCluster {
        let primaryPort = String(self.port)
        let standby = try await Self.launch { directory, port in ["standby", directory, port, primaryPort] }
        let primary = try Connection(self.serverURL)
        defer { primary.close() }
        try primary.query("ALTER SYSTEM SET synchronous_standby_names = '*'")
        try primary.query("ALTER SYSTEM SET synchronous_commit = 'on'")
        try primary.query("SELECT pg_reload_conf()")
        for _ in 0..<300 {
            let states = try primary.query("SELECT sync_state FROM pg_stat_replication")
            if states.rowCount > 0, try states.decode(String.self, row: 0, column: 0) == "sync" { return standby }
            try await Task.sleep(for: .milliseconds(100))
        }
        standby.stop()
        throw DaemonFailure(description: "the standby did not become synchronous within 30 s")
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`: no checkpoint, clients cut off, as
    /// when its machine fails); the folder stays until ``stop()``.
    func crash() async throws {
        let script = CLI.packageRoot.appendingPathComponent("scripts/pg-cluster.sh").path
        let directory = self.directory.path
        _ = try await ProcessClient.onThread { try Self.run(["/bin/bash", script, "stop", directory, "immediate"]) }
    }

    /// Promotes a standby to primary (`pg_ctl promote`, waiting until it accepts writes).
    ///
    /// - Throws: ``DaemonFailure`` with the script's output when it fails.
    func promote() async throws {
        let script = CLI.packageRoot.appendingPathComponent("scripts/pg-cluster.sh").path
        let directory = self.directory.path
        let (status, output) = try await ProcessClient.onThread {
            try Self.run(["/bin/bash", script, "promote", directory])
        }
        guard status == 0 else { throw DaemonFailure(description: "pg-cluster.sh promote exited \(status): \(output)") }
    }
}

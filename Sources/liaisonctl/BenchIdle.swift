import Foundation
import LiaisonBench
import LiaisonClient

/// `bench --idle-connections`: the daemon's resident memory per idle, authenticated connection
/// with one subscription.
struct BenchIdle {
    /// What one measurement found.
    struct Result {
        var connections: Int
        /// Daemon resident bytes before connecting and with every connection open.
        var before: Int
        var after: Int

        var bytesPerConnection: Double {
            ProcessMemory.bytesPerConnection(before: self.before, after: self.after, connections: self.connections)
        }

        var table: String {
            var table = TextTable(["CONNECTIONS", "RSS BEFORE KIB", "RSS AFTER KIB", "BYTES/CONNECTION"])
            table.append([
                String(self.connections), String(self.before / 1024), String(self.after / 1024),
                BenchReport.format(self.bytesPerConnection, digits: 0),
            ])
            return "liaisonctl bench: idle connections\n" + table.rendered
        }

        var json: [String: Any] {
            [
                "idle_connections": self.connections, "rss_before_bytes": self.before,
                "rss_after_bytes": self.after, "bytes_per_connection": self.bytesPerConnection,
            ]
        }
    }

    let server: ServerOptions

    /// Opens `connections` connections (200 at a time), each subscribed to a pattern of its own
    /// under `bench.idle.`, lets the daemon settle for 2 s, reads its RSS, and closes them.
    ///
    /// - Throws: ``CLIFailure`` when the daemon's `/proc/<pid>/status` cannot be read; the first
    ///   connect, `AUTH` or `SUB` error.
    func measure(connections: Int, daemonPID: Int32) async throws -> Result {
        let before = try Self.resident(daemonPID)
        var clients: [LiaisonClient] = []
        clients.reserveCapacity(connections)
        do {
            for batch in stride(from: 0, to: connections, by: 200) {
                try await withThrowingTaskGroup(of: LiaisonClient.self) { group in
                    for index in batch..<min(batch + 200, connections) {
                        group.addTask {
                            let client = try await self.server.connect()
                            do {
                                // A pattern of its own, as a field office's: one trie entry each.
                                try await client.subscribe(sid: "idle", pattern: "bench.idle.\(index).>")
                            } catch {
                                await client.close()
                                throw error
                            }
                            return client
                        }
                    }
                    for try await client in group {
                        clients.append(client)
                    }
                }
                if batch % 2000 == 0 {
                    BenchProgress.line("idle: \(clients.count) connections open")
                }
            }
            try await Task.sleep(for: .seconds(2))
            let after = try Self.resident(daemonPID)
            for client in clients {
                await client.close()
            }
            return Result(connections: connections, before: before, after: after)
        } catch {
            for client in clients {
                await client.close()
            }
            throw error
        }
    }

    private static func resident(_ pid: Int32) throws -> Int {
        let path = "/proc/\(pid)/status"
        guard let status = try? String(contentsOfFile: path, encoding: .utf8),
            let bytes = ProcessMemory.residentBytes(status: status)
        else {
            throw CLIFailure("cannot read the resident memory of process \(pid) from \(path)")
        }
        return bytes
    }
}

import Foundation
import LiaisonStore
import Postgres

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of one test's own (`scripts/pg-cluster.sh`, in a temporary folder on a
/// free port), which the test may freeze with SIGSTOP without disturbing the suite's server.
///
/// ``stop()`` thaws it first (a frozen postmaster would keep `pg_ctl stop` waiting), stops it and
/// removes its folder; call it from a `defer` so that a failing test stops it too.
final class PrivateCluster: Sendable {
    /// The cluster's folder (data, socket, logs).
    let directory: URL
    /// The TCP port on 127.0.0.1.
    let port: Int
    /// The URL of its `postgres` database, as `pg-cluster.sh` printed it.
    let serverURL: String

    init(directory: URL, port: Int, serverURL: String) {
        self.directory = directory
        self.port = port
        self.serverURL = serverURL
    }

    /// Creates and starts a cluster (initdb takes a second or two).
    ///
    /// - Throws: ``DaemonFailure`` with the script's output when it fails.
    static func start() async throws -> PrivateCluster {
        try await Self.launch { directory, port in ["start", directory, port] }
    }

    /// Runs `pg-cluster.sh` with the arguments `command` makes of a new folder and a free port
    /// (`start DIR PORT`, `standby DIR PORT PRIMARY_PORT`).
    ///
    /// - Returns: The cluster it started.
    /// - Throws: ``DaemonFailure`` with the script's output when it fails.
    static func launch(_ command: @escaping @Sendable (String, String) -> [String]) async throws -> PrivateCluster {
        let name = "liaison-pg-" + UUID().uuidString.prefix(8).lowercased()
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(name)
        let port = try Self.freePort()
        let script = CLI.packageRoot.appendingPathComponent("scripts/pg-cluster.sh").path
        let (status, output) = try await ProcessClient.onThread {
            try Self.run(["/bin/bash", script] + command(directory.path, String(port)))
        }
        let cluster = PrivateCluster(
            directory: directory,
            port: port,
            serverURL: output.trimmingCharacters(in: .newlines)
        )
        guard status == 0, cluster.serverURL.hasPrefix("postgresql://") else {
            cluster.stop()
            throw DaemonFailure(description: "pg-cluster.sh \(command("DIR", "PORT")) exited \(status): \(output)")
        }
        return cluster
    }

    /// Creates database `name` and applies `migrations/`.
    ///
    /// - Returns: Its URL.
    func createMigratedDatabase(_ name: String) throws -> String {
        let admin = try Connection(self.serverURL)
        defer { admin.close() }
        try admin.query("CREATE DATABASE " + admin.quoteIdentifier(name))
        let url = "postgresql://liaison@127.0.0.1:\(self.port)/\(name)"
        let connection = try Connection(url)
        defer { connection.close() }
        _ = try Migrator().migrate(
            try Migration.load(from: CLI.packageRoot.appendingPathComponent("migrations")),
            on: connection
        )
        return url
    }

    /// Thaws, stops (`pg_ctl stop -m fast`) and deletes the cluster. Blocks for up to a few seconds.
    func stop() {
        self.thaw()
        let script = CLI.packageRoot.appendingPathComponent("scripts/pg-cluster.sh").path
        _ = try? Self.run(["/bin/bash", script, "stop", self.directory.path])
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// The postmaster (from the first line of `data/postmaster.pid`) and all its children (from
    /// `/proc/<pid>/stat`), postmaster first; empty when it is not running.
    func processes() -> [pid_t] {
        let file = self.directory.appendingPathComponent("data/postmaster.pid").path
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
            let line = text.split(separator: "\n").first, let postmaster = pid_t(line)
        else { return [] }
        let children = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            pid_t(entry).flatMap { Self.status(of: $0)?.parent == postmaster ? $0 : nil }
        }
        return [postmaster] + children.sorted()
    }

    /// SIGSTOPs the postmaster, then its children (twice over, so that one forked meanwhile is
    /// caught), and checks that each is stopped.
    ///
    /// - Returns: The frozen processes.
    /// - Throws: ``DaemonFailure`` when the cluster is not running or a process did not stop.
    @discardableResult
    func freeze() throws -> [pid_t] {
        var frozen: [pid_t] = []
        for _ in 0..<2 {
            frozen = self.processes()
            for pid in frozen { kill(pid, SIGSTOP) }
        }
        guard frozen.count > 1 else { throw DaemonFailure(description: "no postmaster with children to freeze") }
        for _ in 0..<100 where !frozen.allSatisfy({ Self.status(of: $0)?.state == "T" }) { usleep(10_000) }
        let running = frozen.filter { Self.status(of: $0)?.state != "T" }
        guard running.isEmpty else { throw DaemonFailure(description: "not stopped by SIGSTOP: \(running)") }
        return frozen
    }

    /// SIGCONTs every process of the cluster (children first).
    func thaw() {
        for pid in self.processes().reversed() { kill(pid, SIGCONT) }
    }

    /// The state letter and parent of a process (`/proc/<pid>/stat`), or nil when it is gone.
    private static func status(of pid: pid_t) -> (state: Character, parent: pid_t)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses, hence the last ')'.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 2, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
        return (state, parent)
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw DaemonFailure(description: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The C signature of `posix_spawn_file_actions_addclosefrom_np`.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which the Glibc
    /// module does not import; nil where the C library has none.
    private static let closeFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: CloseFrom.self)
    }

    /// Runs a program with `posix_spawn` (not Foundation's `Process`, whose exit monitoring hung
    /// when several children ran at once) and waits for it. Its stdout and stderr go to one
    /// temporary file; it inherits no other descriptor, so the postmaster it may leave running
    /// holds none of the test's sockets.
    ///
    /// - Parameter arguments: The program's path, then its arguments.
    /// - Returns: Its exit status (or 128 + the signal) and its output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let output = open(log.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            Glibc.close(output)
            Glibc.close(input)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        _ = Self.closeFrom?(&actions, 3)
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = CLI.baseEnvironment().map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in environment { free(pointer) } }
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environment)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOENT) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (code, text)
    }
}

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (a built program such as `liaisonctl sub`) spawned with
/// `posix_spawn`, its standard output and standard error in files that a test reads while it
/// runs, its exit observed with `waitpid` polling.
///
/// Not Foundation's `Process`: its exit monitoring hung `waitUntilExit()` when several children
/// ran at once (see ``FaultProxy``). The child gets ``CLI/baseEnvironment()`` plus the variables
/// given, and `/dev/null` as standard input. A child still running when this object goes away is
/// killed with `SIGKILL` and reaped.
final class ChildProcess: Sendable {
    /// The child's process id.
    let pid: pid_t
    /// The file standard output goes to (deleted with this object).
    let stdoutURL: URL
    private let stderrURL: URL
    /// The exit code once reaped (or 128 + the signal that ended it); `nil` while it runs.
    private let exit = Mutex<Int32?>(nil)

    /// Spawns `program` from ``CLI/binDirectory``.
    ///
    /// - Parameters:
    ///   - program: The executable's name, e.g. `liaisonctl`.
    ///   - arguments: The command line after the program name.
    ///   - environment: Variables added to ``CLI/baseEnvironment()``.
    /// - Throws: A test failure when the program is not built; a `POSIXError` when it cannot be spawned.
    init(_ program: String, _ arguments: [String], environment: [String: String]) throws {
        let path = try CLI.executable(program).path
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID())")
        self.stdoutURL = scratch.appendingPathExtension("out")
        self.stderrURL = scratch.appendingPathExtension("err")
        // Close-on-exec: only the copies dup2'd to 0, 1 and 2 reach this child, and no other
        // child spawned meanwhile by a parallel test inherits them.
        let output = open(self.stdoutURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let errors = open(self.stderrURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(output)
            close(errors)
            close(input)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, errors, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let variables = CLI.baseEnvironment().merging(environment) { _, new in new }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        // As a shell would start it: no signal blocked, SIGINT and SIGTERM at their defaults (a
        // test thread may have them blocked or ignored, and both are inherited across exec).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOENT) }
        self.pid = pid
    }

    deinit {
        if self.exitCode == nil {
            kill(self.pid, SIGKILL)
            while waitpid(self.pid, nil, 0) < 0 && errno == EINTR {}
        }
        try? FileManager.default.removeItem(at: self.stdoutURL)
        try? FileManager.default.removeItem(at: self.stderrURL)
    }

    /// The exit code if the child has ended (reaping it), else `nil`: its status for a normal
    /// exit, 128 + the signal for one ended by a signal.
    var exitCode: Int32? {
        self.exit.withLock { code in
            if code == nil {
                var status: Int32 = 0
                if waitpid(self.pid, &status, WNOHANG) == self.pid {
                    // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
                    code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                }
            }
            return code
        }
    }

    /// Sends `signal` to the child (nothing once it was reaped).
    func send(_ signal: Int32) {
        if self.exitCode == nil { kill(self.pid, signal) }
    }

    /// Waits until the child exits, polling every 20 ms.
    ///
    /// - Parameter limit: The longest wait.
    /// - Returns: The exit code, or `nil` when it still runs after `limit`.
    func waitForExit(within limit: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let code = self.exitCode { return code }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.exitCode
    }

    /// What the child has written to standard output so far.
    var stdout: String { Self.contents(of: self.stdoutURL) }

    /// What the child has written to standard error so far.
    var stderr: String { Self.contents(of: self.stderrURL) }

    /// The complete lines of standard output so far: a line still being written is left out.
    var completeLines: [Substring] {
        let text = self.stdout
        guard let lastLF = text.lastIndex(of: "\n") else { return [] }
        return text[..<lastLF].split(separator: "\n")
    }

    private static func contents(of url: URL) -> String {
        String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
    }
}

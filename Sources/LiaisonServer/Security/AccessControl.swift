import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import Postgres

/// The permissions of the accounts connected to this daemon, kept current without a restart.
///
/// Loaded when an account authenticates; a poll of the store's access version (one tiny query
/// per second) reloads every cached account when an admin changed rules or clearances, so a
/// `liaisonctl acl revoke` takes effect on live connections within about a second.
final class AccessControl: Sendable {
    private struct State {
        var permissions: [String: Permissions] = [:]
        var version: Int64 = -1
        var polling = false
    }

    private let executor: any PostgresExecutor
    private let logger: Logger
    // Safe to share: the cache is guarded by the lock.
    private let state = NIOLockedValueBox(State())

    init(executor: any PostgresExecutor, logger: Logger) {
        self.executor = executor
        self.logger = logger
    }

    /// The cached permissions of an account, or nothing for an account not loaded (deny all).
    func permissions(_ account: String) -> Permissions? {
        self.state.withLockedValue { $0.permissions[account] }
    }

    /// Caches the permissions read with an `AUTH`.
    func remember(_ account: String, _ permissions: Permissions) {
        self.state.withLockedValue { $0.permissions[account] = permissions }
    }

    /// Checks the access version and reloads the cached accounts when it moved. Called once a
    /// second by the server; a poll already running is not doubled.
    func poll() {
        let start = self.state.withLockedValue { state -> Bool in
            guard !state.polling else { return false }
            state.polling = true
            return true
        }
        guard start else { return }
        let known = self.state.withLockedValue { ($0.version, Array($0.permissions.keys)) }
        self.executor.submit(
            { connection -> (Int64, [String: Permissions?]?) in
                let rules = AccessRules()
                let version = try rules.version(on: connection)
                guard version != known.0 else { return (version, nil) }
                var fresh: [String: Permissions?] = [:]
                for account in known.1 {
                    // A disabled account keeps its rules on paper but may do nothing on live connections.
                    let enabled = try Accounts().find(account, on: connection)?.enabled ?? false
                    fresh[account] = enabled ? try rules.permissions(account: account, on: connection) : nil
                }
                return (version, fresh)
            },
            completion: { result in
                self.state.withLockedValue { state in
                    state.polling = false
                    guard case .success((let version, let fresh)) = result else { return }
                    if let fresh {
                        for (account, permissions) in fresh {
                            state.permissions[account] = permissions ?? Permissions(rules: [], clearance: .public)
                        }
                        if state.version >= 0 { self.logger.info("access rules changed: reloaded") }
                    }
                    state.version = version
                }
            }
        )
    }
}

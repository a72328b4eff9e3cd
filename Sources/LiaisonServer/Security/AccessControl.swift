import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers

/// The permissions of the accounts connected to this daemon, kept current without a restart.
///
/// Loaded when an account authenticates; a poll of the store's access version (one tiny query
/// per second) reloads every cached account when an admin changed rules or clearances, so a
/// `liaisonctl acl revoke`, an `account disable` or a change of role takes effect on live
/// connections within about a second.
final class AccessControl: Sendable {
    private struct State {
        var permissions: [String: Permissions] = [:]
        var version: Int64 = -1
        var polling = false
    }

    private let storage: any LiaisonStorage
    private let logger: Logger
    // Safe to share: the cache is guarded by the lock.
    private let state = NIOLockedValueBox(State())

    init(storage: any LiaisonStorage, logger: Logger) {
        self.storage = storage
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
    /// second by the access poll; a poll already running is not doubled.
    func poll() async {
        let known = self.state.withLockedValue { state -> (Int64, [String])? in
            guard !state.polling else { return nil }
            state.polling = true
            return (state.version, Array(state.permissions.keys))
        }
        guard let known else { return }
        defer { self.state.withLockedValue { $0.polling = false } }
        do {
            let version = try await self.storage.accessVersion()
            let fresh: [String: Permissions?]? =
                version == known.0 ? nil : try await self.storage.permissions(accounts: known.1)
            self.state.withLockedValue { state in
                if let fresh {
                    for (account, permissions) in fresh {
                        state.permissions[account] = permissions ?? .disabled
                    }
                    if state.version >= 0 { self.logger.info("access rules changed: reloaded") }
                }
                state.version = version
            }
        } catch {
            self.logger.debug("access poll failed", metadata: [LogKey.error: "\(error)"])
        }
    }
}

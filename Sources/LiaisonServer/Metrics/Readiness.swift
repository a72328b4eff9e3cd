import LiaisonStore

/// Whether the daemon can serve publishes and subscriptions now (`/readyz`): the database
/// answers, its schema is the one this build needs, and the writer is not stuck in a commit.
struct Readiness: Sendable, Equatable {
    /// One line per failed check; empty when ready.
    var failures: [String]

    var isReady: Bool { self.failures.isEmpty }

    /// Decides readiness from what the checks found; a pure function, unit-tested.
    ///
    /// - Parameters:
    ///   - schemaVersion: The applied schema version, or the error reading it (the database is
    ///     unreachable or did not answer within the storage timeout).
    ///   - requiredVersion: The version this build's migrations end at (``Schema/requiredVersion``).
    ///   - commitRunning: How long the oldest append in flight has run; `nil` when none is.
    ///   - publishTimeout: A commit running longer than this means the writer is stalled.
    static func evaluate(
        schemaVersion: Result<Int, any Error>,
        requiredVersion: Int,
        commitRunning: Duration?,
        publishTimeout: Duration
    ) -> Readiness {
        var failures: [String] = []
        switch schemaVersion {
        case .success(let version) where version < requiredVersion:
            failures.append(
                "schema: database at version \(version), this build needs \(requiredVersion): run liaisonctl migrate"
            )
        case .success(let version) where version > requiredVersion:
            failures.append("schema: database at version \(version) is newer than this build's \(requiredVersion)")
        case .success:
            break
        case .failure(let error):
            failures.append("database: unreachable: \(StoreError.wrap(error).message)")
        }
        if let commitRunning, commitRunning > publishTimeout {
            let running = Int(commitRunning / .milliseconds(1))
            let timeout = Int(publishTimeout / .milliseconds(1))
            failures.append("writer: a batch has been committing for \(running) ms (publish timeout \(timeout) ms)")
        }
        return Readiness(failures: failures)
    }

    /// Runs the checks: one cheap store call (the schema version, within the storage timeout)
    /// and a look at the writer's commit in flight.
    static func check(
        storage: any NodeHealthStorage,
        commits: CommitMonitor,
        publishTimeout: Duration
    ) async -> Readiness {
        let version: Result<Int, any Error>
        do {
            version = .success(try await storage.schemaVersion())
        } catch {
            version = .failure(error)
        }
        return Self.evaluate(
            schemaVersion: version,
            requiredVersion: Schema.requiredVersion,
            commitRunning: commits.oldestInFlight(),
            publishTimeout: publishTimeout
        )
    }
}

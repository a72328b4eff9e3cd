import LiaisonStore
import Prometheus

extension ServerCounters {
    /// Counts a session's storage call (an `AUTH` lookup, a consumer bind, a replay page, a
    /// progress write, …) that failed in the database in `liaison_database_errors_total`, as the
    /// writer counts its failed appends there. An answer such as "in use" or "not found" is not a
    /// database error and is not counted.
    func storageCallFailed(_ error: StoreError) {
        guard error.code == .unavailable || error.code == .database else { return }
        self.metrics.databaseErrors.increment()
    }
}

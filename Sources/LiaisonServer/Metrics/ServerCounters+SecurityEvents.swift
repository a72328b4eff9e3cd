import LiaisonStore

extension ServerCounters {
    /// Counts what a session's security event says happened: failed and throttled `AUTH`s, and
    /// `PUB`/`SUB` refused with `ERR 403` (the machine records each of these as an event).
    func count(_ kind: SecurityEventKind) {
        switch kind {
        case .authFailed: self.add(\.authFailures)
        case .authThrottled: self.add(\.authThrottled)
        case .publishRefused: self.refused(.publish, code: 403)
        case .subscribeRefused: self.refused(.subscribe, code: 403)
        default: break
        }
    }
}

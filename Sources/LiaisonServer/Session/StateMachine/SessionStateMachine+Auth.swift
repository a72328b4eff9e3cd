import LiaisonCore
import LiaisonStore

extension SessionStateMachine {
    /// `AUTH <account> <token>`: throttled per address and account, checked in the store; later
    /// commands wait for the outcome.
    mutating func authenticate(account name: String, token: String, now: Int64) {
        if let current = self.account {
            return self.send(ProtocolError(.conflict, "already authenticated as \(current.name)").replyLine)
        }
        switch self.policy.authVerdict(address: self.configuration.remoteHost, account: name, now: now) {
        case .refuse(let wait):
            self.emit(.securityEvent(.authThrottled, account: name, reason: "too many failed attempts"))
            self.send(
                ProtocolError(.tooManyRequests, "too many failed attempts: retry in \((wait + 999) / 1000) s").replyLine
            )
        case .delay(let milliseconds):
            // Slow the guesser down: the answer comes late, and nothing else runs meanwhile.
            self.become(.authenticating)
            self.pendingAuth = PendingAuth(ticket: self.outbound.reserve(), account: name, token: token)
            self.emit(.startTimer(.authDelay, milliseconds: milliseconds))
        case .proceed:
            self.become(.authenticating)
            self.pendingAuth = PendingAuth(ticket: self.outbound.reserve(), account: name, token: token)
            self.emit(.store(.authenticate(account: name, token: token)))
        }
    }

    /// The throttle's delay for a held-back `AUTH` passed: check it now.
    mutating func authDelayPassed() {
        guard let pending = self.pendingAuth, self.phase == .authenticating else { return }
        self.emit(.store(.authenticate(account: pending.account, token: pending.token)))
    }

    /// The store checked an `AUTH`.
    mutating func authenticated(name: String, _ result: Result<(Account, Permissions)?, StoreError>, now: Int64) {
        guard let pending = self.pendingAuth, pending.account == name else { return }
        self.pendingAuth = nil
        switch result {
        case .success(let (account, permissions)?):
            self.policy.authSucceeded(address: self.configuration.remoteHost, account: name)
            if let refusal = self.bind(account, permissions, via: "token") {
                self.fill(pending.ticket, refusal)
                self.deferred.removeAll()
                self.become(.closing)
                return
            }
            // The idle clock starts when the client can act, not when its AUTH was read.
            self.lastCommandAt = now
            self.fill(pending.ticket, ServerLine.authenticated(account: account.name))
        case .success(nil):
            self.policy.authFailed(address: self.configuration.remoteHost, account: name, now: now)
            self.emit(.securityEvent(.authFailed, account: name, reason: "invalid token"))
            self.emit(.log(.notice, "authentication failed for \(name)"))
            self.fill(pending.ticket, ProtocolError(.unauthorized, "invalid account or token").replyLine)
        case .failure(let error):
            self.emit(.log(.error, "authentication could not be checked: \(error)"))
            self.fill(pending.ticket, ProtocolError(.unavailable, "storage unavailable, try again").replyLine)
        }
        self.unblock(now: now)
    }

    /// A client certificate named an account (mutual TLS): authenticate as it, no `AUTH` needed.
    mutating func certificateIdentified(_ name: String) -> [SessionAction] {
        guard self.account == nil, self.phase == .awaitingAuth else { return self.finish() }
        self.become(.authenticating)
        self.emit(.store(.certificate(account: name)))
        return self.finish()
    }

    /// The store looked up the account a client certificate names.
    mutating func certificateChecked(name: String, _ result: Result<(Account, Permissions)?, StoreError>, now: Int64) {
        guard self.phase == .authenticating, self.pendingAuth == nil else { return }
        switch result {
        case .success(let (account, permissions)?):
            if let refusal = self.bind(account, permissions, via: "client certificate") {
                self.send(refusal)
                self.deferred.removeAll()
                self.become(.closing)
                return
            }
        default:
            self.emit(
                .securityEvent(.authFailed, account: name, reason: "client certificate names no enabled account")
            )
            self.emit(.log(.notice, "client certificate for \(name) refused"))
        }
        self.unblock(now: now)
    }

    /// Makes the connection act as `account` (after a token or a client certificate).
    ///
    /// - Returns: `nil` when bound, or the `ERR 429` line when the account has too many
    ///   connections (the caller answers with it and closes the connection).
    private mutating func bind(_ account: Account, _ permissions: Permissions, via method: String) -> String? {
        let limit = self.limits.maxConnectionsPerAccount
        guard self.policy.claimAccount(account.name, limit: limit) else {
            self.emit(
                .securityEvent(.connectionRefused, account: account.name, reason: "more than \(limit) connections")
            )
            return ProtocolError(
                .tooManyRequests,
                "account \(account.name) has \(limit) connections already",
                closesConnection: true
            ).replyLine
        }
        self.bindAccount(account)
        self.policy.remember(account.name, permissions)
        self.emit(.cancelTimer(.auth))
        self.emit(.log(.info, "authenticated as \(account.name) by \(method)"))
        self.emit(.securityEvent(.authSucceeded, account: account.name, reason: method))
        return nil
    }

    /// The auth timer fired: close a connection that did not authenticate in time.
    mutating func authTimedOut() {
        guard self.account == nil, self.phase != .closed else { return }
        let timeout = self.limits.authTimeoutMilliseconds
        self.emit(.log(.notice, "closing connection: no AUTH within \(timeout) ms"))
        let line = ProtocolError(.unauthorized, "no AUTH within \(timeout) ms", closesConnection: true).replyLine
        if let pending = self.pendingAuth {
            // The AUTH still being checked gets this answer; a late store answer is then ignored.
            self.pendingAuth = nil
            self.fill(pending.ticket, line)
        } else {
            self.send(line)
        }
        self.deferred.removeAll()
        self.become(.closing)
    }
}

/// An `AUTH` being checked: its reply slot and what to check.
struct PendingAuth: Equatable {
    var ticket: OutboundQueue<OutboundFrame>.Ticket
    var account: String
    var token: String
}

import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOCore
import Postgres

extension ClientSession {
    /// `AUTH <account> <token>`: throttled per address and account, checked on the read pool;
    /// later commands wait for the outcome.
    func authenticate(account name: String, token: String) {
        if let current = self.account {
            return self.send(line: ProtocolError(.conflict, "already authenticated as \(current.name)").replyLine)
        }
        guard let context = self.context else { return }
        let now = Self.monotonicMilliseconds()
        switch self.shared.security.throttle.verdict(address: self.remoteHost, account: name, now: now) {
        case .refuse(let wait):
            self.shared.security.events.record(
                .authThrottled,
                account: name,
                remote: self.remoteAddress,
                reason: "too many failed attempts"
            )
            return self.send(
                line: ProtocolError(
                    .tooManyRequests,
                    "too many failed attempts: retry in \((wait + 999) / 1000) s"
                ).replyLine
            )
        case .delay(let milliseconds):
            // Slow the guesser down: the answer comes late, and nothing else runs meanwhile.
            self.blockingInFlight = true
            let ticket = self.outbound.reserve()
            let session = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                session.value.checkCredentials(ticket, name: name, token: token)
            }
        case .proceed:
            self.blockingInFlight = true
            self.checkCredentials(self.outbound.reserve(), name: name, token: token)
        }
    }

    private func checkCredentials(_ ticket: OutboundQueue.Ticket, name: String, token: String) {
        guard let context = self.context, !self.isClosed else { return }
        let loop = context.eventLoop
        let session = NIOLoopBound(self, eventLoop: loop)
        self.shared.readPool.submit(
            { connection -> (Account, Permissions)? in
                guard let account = try Credentials().authenticate(account: name, token: token, on: connection),
                    let permissions = try AccessRules().permissions(account: name, on: connection)
                else { return nil }
                return (account, permissions)
            },
            completion: { result in
                loop.execute { session.value.authenticated(ticket, name: name, result.mapError(StoreError.wrap)) }
            }
        )
    }

    private func authenticated(
        _ ticket: OutboundQueue.Ticket,
        name: String,
        _ result: Result<(Account, Permissions)?, StoreError>
    ) {
        let security = self.shared.security
        switch result {
        case .success(let (account, permissions)?):
            security.throttle.succeeded(address: self.remoteHost, account: name)
            if let refusal = self.bind(account, permissions, via: "token") {
                self.fill(ticket, line: refusal)
                self.closing = true
                self.closeIfDone()
            } else {
                self.fill(ticket, line: ServerLine.authenticated(account: account.name))
            }
        case .success(nil):
            security.throttle.failed(address: self.remoteHost, account: name, now: Self.monotonicMilliseconds())
            security.events.record(.authFailed, account: name, remote: self.remoteAddress, reason: "invalid token")
            self.logger.notice("authentication failed", metadata: [LogKey.account: "\(name)"])
            self.fill(ticket, line: ProtocolError(.unauthorized, "invalid account or token").replyLine)
        case .failure(let error):
            self.logger.error("authentication could not be checked", metadata: [LogKey.error: "\(error)"])
            self.fill(ticket, line: ProtocolError(.unavailable, "storage unavailable, try again").replyLine)
        }
        self.unblock()
    }

    /// Makes the connection act as `account` (after a token or a client certificate).
    ///
    /// - Returns: `nil` when bound, or the `ERR 429` line when the account has too many
    ///   connections (the caller answers with it and closes the connection).
    @discardableResult
    func bind(_ account: Account, _ permissions: Permissions, via method: String) -> String? {
        guard !self.isClosed else { return nil }
        let limit = self.shared.limits.maxConnectionsPerAccount
        if !self.shared.registry.claimAccount(account.name, limit: limit) {
            self.shared.security.events.record(
                .connectionRefused,
                account: account.name,
                remote: self.remoteAddress,
                reason: "more than \(limit) connections"
            )
            return ProtocolError(
                .tooManyRequests,
                "account \(account.name) has \(limit) connections already",
                closesConnection: true
            ).replyLine
        }
        self.account = account
        self.shared.security.access.remember(account.name, permissions)
        self.authTimer?.cancel()
        self.authTimer = nil
        self.logger[metadataKey: LogKey.account] = "\(account.name)"
        self.logger.info("authenticated", metadata: ["liaison.method": "\(method)"])
        self.shared.security.events.record(
            .authSucceeded,
            account: account.name,
            remote: self.remoteAddress,
            reason: method
        )
        return nil
    }

    /// The account's current permissions (reloaded within a second of an admin's change).
    var permissions: Permissions {
        guard let name = self.account?.name else { return Permissions(rules: [], clearance: .public) }
        return self.shared.security.access.permissions(name) ?? Permissions(rules: [], clearance: .public)
    }

    /// A client certificate named an account (mutual TLS): authenticate as it, no `AUTH` needed.
    func authenticateByCertificate(_ name: String) {
        guard let context = self.context, self.account == nil else { return }
        self.blockingInFlight = true
        let loop = context.eventLoop
        let session = NIOLoopBound(self, eventLoop: loop)
        let remote = self.remoteAddress
        self.shared.readPool.submit(
            { connection -> (Account, Permissions)? in
                guard let account = try Accounts().find(name, on: connection), account.enabled,
                    let permissions = try AccessRules().permissions(account: name, on: connection)
                else { return nil }
                return (account, permissions)
            },
            completion: { result in
                loop.execute {
                    let session = session.value
                    switch result {
                    case .success(let (account, permissions)?):
                        if let refusal = session.bind(account, permissions, via: "client certificate") {
                            session.send(line: refusal)
                            session.closing = true
                            session.closeIfDone()
                        }
                    default:
                        session.shared.security.events.record(
                            .authFailed,
                            account: name,
                            remote: remote,
                            reason: "client certificate names no enabled account"
                        )
                        session.logger.notice("client certificate refused", metadata: [LogKey.account: "\(name)"])
                    }
                    session.unblock()
                }
            }
        )
    }

    /// Starts the clock an unauthenticated connection has to `AUTH`.
    func startAuthTimer() {
        guard let context = self.context, self.shared.limits.authTimeoutMilliseconds > 0 else { return }
        let timeout = self.shared.limits.authTimeoutMilliseconds
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.authTimer = context.eventLoop.scheduleTask(in: .milliseconds(timeout)) {
            let session = session.value
            guard session.account == nil, !session.isClosed else { return }
            session.logger.notice("closing connection: no AUTH within \(timeout) ms")
            session.send(
                line: ProtocolError(.unauthorized, "no AUTH within \(timeout) ms", closesConnection: true).replyLine
            )
            session.closing = true
            session.closeIfDone()
            session.flushIfNeeded()
        }
    }
}

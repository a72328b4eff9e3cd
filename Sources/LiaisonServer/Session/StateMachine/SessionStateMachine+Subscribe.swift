import Foundation
import LiaisonCore
import LiaisonStore

extension SessionStateMachine {
    /// `SUB`: checks, then routes at once (`from=` replays first) or, for `durable=`, binds the
    /// consumer in the store while later frames wait.
    mutating func subscribe(_ request: SubscribeRequest, now: Int64) {
        guard self.requireAccount(), let account = self.account?.name else { return }
        if self.subscriptions[request.sid] != nil {
            return self.refuseSubscribe(ProtocolError(.conflict, "subscription \(request.sid) exists"))
        }
        if self.subscriptions.count >= self.limits.maxSubscriptions {
            self.emit(.count(.subscriptionLimitReached, 1))
            return self.send(
                ProtocolError(.tooManyRequests, "at most \(self.limits.maxSubscriptions) subscriptions per connection")
                    .replyLine
            )
        }
        for (key, _) in request.extra {
            return self.send(ProtocolError(.badRequest, "unknown SUB option \(key)").replyLine)
        }
        guard self.permissions.maySubscribe(request.pattern) else {
            return self.refuse(.subscribeRefused, "account \(account) may not read all of \(request.pattern)")
        }
        let tracker: AckTracker? =
            request.ack == .explicit
            ? AckTracker(
                ackWaitMilliseconds: request.ackWaitMilliseconds ?? self.limits.ackWaitMilliseconds,
                maxDeliver: request.maxDeliver ?? self.limits.maxDeliver,
                maxInflight: request.maxInflight ?? self.limits.maxInflight
            ) : nil
        guard let durable = request.durable else {
            if request.reset {
                return self.send(ProtocolError(.badRequest, "reset=true needs durable=<name>").replyLine)
            }
            var replayTime: Date?
            let start: Int64?
            switch request.start {
            case .new: start = nil
            case .all: start = 0
            case .seq(let seq): start = max(0, seq - 1)
            case .time(let time):
                start = 0
                replayTime = time
            }
            let subscription = Subscription(
                state: self.makeState(request, replayAfter: start),
                tracker: tracker,
                durable: nil
            )
            return self.activate(subscription, ticket: nil, replayTime: replayTime)
        }
        guard self.policy.claimDurable(account: account, name: durable) else {
            return self.refuseSubscribe(ProtocolError(.conflict, "durable \(durable) is in use by another connection"))
        }
        let settings = ConsumerSettings(
            pattern: request.pattern,
            ackMode: request.ack,
            ackWaitMilliseconds: tracker?.ackWaitMilliseconds ?? self.limits.ackWaitMilliseconds,
            maxDeliver: tracker?.maxDeliver ?? self.limits.maxDeliver,
            maxInflight: tracker?.maxInflight ?? self.limits.maxInflight
        )
        self.pendingDurable = PendingDurable(
            ticket: self.outbound.reserve(),
            request: request,
            tracker: tracker
        )
        self.become(.opening(sid: request.sid))
        self.emit(
            .store(
                .openConsumer(
                    sid: request.sid,
                    ConsumerOpening(
                        account: account,
                        name: durable,
                        settings: settings,
                        start: request.startIsExplicit ? request.start : nil,
                        reset: request.reset
                    )
                )
            )
        )
    }

    private mutating func makeState(_ request: SubscribeRequest, replayAfter: Int64?) -> SubscriptionState {
        let id = self.nextSubscriptionID()
        let budget = self.limits.highWaterMark
        guard let replayAfter else {
            return SubscriptionState(sid: request.sid, subscriptionID: id, pattern: request.pattern, holdBudget: budget)
        }
        return SubscriptionState(
            sid: request.sid,
            subscriptionID: id,
            pattern: request.pattern,
            replayAfter: replayAfter,
            holdBudget: budget
        )
    }

    /// The store bound (or refused) a durable consumer.
    mutating func consumerOpened(sid: String, _ result: Result<ConsumerBinding, StoreError>, now: Int64) {
        guard let pending = self.pendingDurable, pending.request.sid == sid, let account = self.account?.name else {
            return
        }
        self.pendingDurable = nil
        let durable = pending.request.durable ?? ""
        switch result {
        case .success(let binding):
            guard self.phase != .closed else {
                return self.emit(.releaseDurable(account: account, name: durable))
            }
            self.emit(.log(.info, "durable consumer \(durable) bound at floor \(binding.info.ackFloor)"))
            var subscription = Subscription(
                state: self.makeState(pending.request, replayAfter: binding.info.ackFloor),
                tracker: pending.tracker,
                durable: durable
            )
            subscription.persistedFloor = binding.info.ackFloor
            subscription.persistedDelivered = binding.info.deliveredSeq
            subscription.confirmed = binding.info.ackFloor
            if pending.tracker != nil, binding.info.deliveredSeq > binding.info.ackFloor || !binding.pending.isEmpty {
                subscription.resume = ResumeFilter(deliveredSeq: binding.info.deliveredSeq, pending: binding.pending)
            }
            self.activate(subscription, ticket: pending.ticket, replayTime: nil)
        case .failure(let error):
            self.emit(.releaseDurable(account: account, name: durable))
            let code: ErrorCode =
                switch error.code {
                case .conflict: .conflict
                case .unavailable: .unavailable
                case .invalid: .badRequest
                case .notFound: .notFound
                default: .internal
                }
            self.emit(.refused(.subscribe, code: code.rawValue))
            self.fill(pending.ticket, ProtocolError(code, error.message).replyLine)
        }
        self.unblock(now: now)
    }

    /// Routes the subscription, answers `OK SUB`, and starts the replay when there is one.
    ///
    /// Route first, read the log second: see ``SubscriptionState`` for why this leaves no gap.
    private mutating func activate(
        _ subscription: Subscription,
        ticket: OutboundQueue<OutboundFrame>.Ticket?,
        replayTime: Date?
    ) {
        let sid = subscription.sid
        self.subscriptions[sid] = subscription
        self.startReceipts(sid: sid)
        self.emit(.route(sid: sid, subscriptionID: subscription.subscriptionID, pattern: subscription.pattern))
        self.emit(.count(.subscriptions, 1))
        if let ticket {
            self.fill(ticket, ServerLine.subscribed(sid: sid))
        } else {
            self.send(ServerLine.subscribed(sid: sid))
        }
        if subscription.tracker != nil || subscription.durable != nil { self.ensureAckTimer() }
        if !subscription.state.isLive {
            self.requestPage(sid: sid, after: subscription.state.lastDelivered, startTime: replayTime, first: true)
        }
    }

    /// Answers a `SUB` with `error` at once, counting the refusal by its code (a `durable=` one
    /// the store refused is counted in ``consumerOpened(sid:_:now:)``).
    private mutating func refuseSubscribe(_ error: ProtocolError) {
        self.emit(.refused(.subscribe, code: error.code.rawValue))
        self.send(error.replyLine)
    }

    /// Removes a subscription: unroutes it; a durable consumer's last progress is recorded and
    /// only then its name freed, so whoever binds it next reads that progress.
    mutating func endSubscription(_ sid: String) {
        guard var subscription = self.subscriptions.removeValue(forKey: sid) else { return }
        self.closeReceipts(of: &subscription)
        self.emit(.unroute(subscriptionID: subscription.subscriptionID, pattern: subscription.pattern))
        self.emit(.count(.subscriptions, -1))
        guard let durable = subscription.durable, let account = self.account?.name else { return }
        let progress = subscription.takeProgress(account: account, ending: true)
        self.emit(.store(.releaseConsumer(progress, account: account, name: durable)))
    }
}

/// A durable `SUB` being bound: its reply slot and what was asked.
struct PendingDurable {
    var ticket: OutboundQueue<OutboundFrame>.Ticket
    var request: SubscribeRequest
    var tracker: AckTracker?
}

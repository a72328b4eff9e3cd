import NIOConcurrencyHelpers
import NIOSSL

/// The settings a configuration reload changes while the daemon runs (``ConfigurationReload``):
/// the limits each new connection takes, the TLS context each new TLS connection uses, and the
/// account-wide publish rate and AUTH throttle.
///
/// Connections read it when they open, so a reload never touches an open connection's state
/// machine; the rate limiter and the throttle are shared by every connection and change at once.
final class LiveSettings: Sendable {
    // Safe to share: guarded by the lock.
    private let current: NIOLockedValueBox<(limits: ServerConfiguration.Limits, tls: NIOSSLContext?)>
    /// Publishes per account (``ServerConfiguration/Limits/publishRatePerSecond``).
    let publishRate: RateLimiter
    /// Failed AUTHs per address and account (the `limits.auth*` keys).
    let throttle: AuthThrottle

    /// - Parameter limits: The limits at start; the TLS context is set once it is built.
    init(limits: ServerConfiguration.Limits) {
        self.current = NIOLockedValueBox((limits, nil))
        self.publishRate = RateLimiter(ratePerSecond: limits.publishRatePerSecond, burst: limits.publishBurst)
        self.throttle = AuthThrottle(policy: AuthThrottle.Policy(limits: limits))
    }

    /// The limits a connection opened now takes.
    var limits: ServerConfiguration.Limits { self.current.withLockedValue { $0.limits } }

    /// The TLS context a TLS connection accepted now handshakes with; `nil` without TLS.
    var tlsContext: NIOSSLContext? { self.current.withLockedValue { $0.tls } }

    /// Makes `limits` (and `tls`, when given) current for connections opened from now on, and
    /// the rate and throttle settings current for every connection.
    func update(limits: ServerConfiguration.Limits, tls: NIOSSLContext?) {
        self.current.withLockedValue { current in
            current.limits = limits
            if let tls { current.tls = tls }
        }
        self.publishRate.update(ratePerSecond: limits.publishRatePerSecond, burst: limits.publishBurst)
        self.throttle.update(policy: AuthThrottle.Policy(limits: limits))
    }
}

extension AuthThrottle.Policy {
    /// The throttle the `limits.auth*` keys describe: a delay as long as the auth timeout or
    /// longer is refused at once (no limit when the auth timeout is 0).
    init(limits: ServerConfiguration.Limits) {
        self.init(
            freeFailures: limits.authFreeFailures,
            baseDelayMilliseconds: limits.authBaseDelayMilliseconds,
            lockoutFailures: limits.authLockoutFailures,
            lockoutMilliseconds: limits.authLockoutMilliseconds,
            longestDelayMilliseconds: limits.authTimeoutMilliseconds > 0 ? limits.authTimeoutMilliseconds : .max
        )
    }
}

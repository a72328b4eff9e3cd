import NIOCore

/// The daemon's monotonic clock, in milliseconds, as the session and writer use it.
enum Monotonic {
    /// Milliseconds since an arbitrary start (system uptime); never goes back.
    static func milliseconds() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
    }

    /// The `ContinuousClock` instant of a time given in ``milliseconds()``.
    static func instant(_ milliseconds: Int64) -> ContinuousClock.Instant {
        .now + .milliseconds(milliseconds - Self.milliseconds())
    }
}

/// The receipt settings of the daemon (`receipts.*`, docs/CONFIGURATION.md and docs/AUDIT.md).
public struct ReceiptSettings: Sendable, Equatable {
    /// Whether sessions record who received and acknowledged what (default `true`).
    public var enabled: Bool = true
    /// Ranges are closed and written at most this often, in milliseconds (default 1 000): also
    /// the precision of receipt times.
    public var flushMilliseconds: Int64 = 1_000
    /// At most this many ranges wait in memory while the database is unavailable (default
    /// 100 000); past it, ranges that cannot be merged into waiting ones are dropped, counted and logged.
    public var maxQueuedRanges: Int = 100_000

    /// Creates the defaults.
    public init() {}
}

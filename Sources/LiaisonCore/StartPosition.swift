public import Foundation

/// Where a new subscription starts reading: the `from=` option of `SUB`.
public enum StartPosition: Sendable, Equatable {
    /// Only messages committed after the subscription (`from=new`, the default).
    case new
    /// The whole retained history, then live (`from=all` or `from=0`).
    case all
    /// Every matching message with a seq at or above this one (≥ 1), then live (`from=<seq>`).
    case seq(Int64)
    /// Every matching message published at or after this time, then live (`from=<RFC 3339>`).
    case time(Date)
}

public import Foundation

/// Conversion between `Date` and PostgreSQL's binary timestamps: Int64 microseconds since
/// 2000-01-01 00:00:00 UTC (PostgreSQL `src/include/datatype/timestamp.h`, `POSTGRES_EPOCH_JDATE`;
/// `integer_datetimes` is always on since PostgreSQL 10).
public enum PostgresTimestamp {
    /// Seconds from 2000-01-01 (PostgreSQL's epoch) to 2001-01-01 (Foundation's reference date):
    /// 366 days, 2000 being a leap year.
    static let epochOffsetSeconds: Int64 = 31_622_400

    /// Microseconds since 2000-01-01 UTC for `date`, rounded to the nearest microsecond.
    ///
    /// - Parameter date: The instant.
    /// - Returns: The instant in microseconds since PostgreSQL's epoch.
    public static func microseconds(from date: Date) -> Int64 {
        // Split whole seconds from the fraction so the rounding works on a small number
        // and keeps microsecond precision far from the reference date.
        let interval = date.timeIntervalSinceReferenceDate
        let seconds = interval.rounded(.down)
        let fraction = interval - seconds
        return (Int64(seconds) + epochOffsetSeconds) * 1_000_000 + Int64((fraction * 1_000_000).rounded())
    }

    /// The instant `microseconds` after 2000-01-01 UTC; `infinity` / `-infinity` become
    /// `Date.distantFuture` / `Date.distantPast`.
    ///
    /// - Parameter microseconds: Microseconds since PostgreSQL's epoch.
    /// - Returns: The instant as a `Date`.
    public static func date(fromMicroseconds microseconds: Int64) -> Date {
        if microseconds == .max {
            return .distantFuture
        }
        if microseconds == .min {
            return .distantPast
        }
        let shifted = microseconds - epochOffsetSeconds * 1_000_000
        let seconds = shifted.quotientAndRemainder(dividingBy: 1_000_000)
        return Date(timeIntervalSinceReferenceDate: Double(seconds.quotient) + Double(seconds.remainder) / 1_000_000)
    }
}

public import Foundation

/// Parsing and formatting of RFC 3339 timestamps, by hand: no `DateFormatter`, no allocation
/// beyond the result.
///
/// Parsing accepts the `date-time` production of RFC 3339 §5.6:
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, with `t`/`z` in either case. Fractions keep
/// up to nanoseconds (more digits are accepted and ignored); a leap second `:60` is accepted and
/// counted as the first second of the next minute, since `Date` has no leap seconds.
/// Formatting always writes UTC with six fractional digits: `2026-11-29T10:00:00.123456Z`.
///
/// Day counting uses Howard Hinnant's `days_from_civil` / `civil_from_days` algorithms
/// (<https://howardhinnant.github.io/date_algorithms.html>), proleptic Gregorian.
public enum RFC3339 {
    /// Formats `date` as UTC with microseconds, e.g. `2026-11-29T10:00:00.123456Z` (27 bytes).
    ///
    /// The time is rounded to the nearest microsecond. Years outside 0000–9999 are clamped to
    /// the first or last microsecond of that range.
    ///
    /// - Parameter date: Any date.
    /// - Returns: The timestamp text.
    public static func format(_ date: Date) -> String {
        let minMicros: Int64 = -62_167_219_200 * 1_000_000  // 0000-01-01T00:00:00Z
        let maxMicros: Int64 = 253_402_300_800 * 1_000_000 - 1  // 9999-12-31T23:59:59.999999Z
        let exact = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let micros: Int64 =
            if exact.isNaN || exact < Double(minMicros) {
                minMicros
            } else if exact > Double(maxMicros) {
                maxMicros
            } else {
                Int64(exact)
            }
        let (seconds, fraction) = floorDivide(micros, 1_000_000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        return String(unsafeUninitializedCapacity: 27) { buffer in
            var offset = 0
            func put(_ value: Int64, digits: Int) {
                var rest = value
                for position in stride(from: offset + digits - 1, through: offset, by: -1) {
                    buffer[position] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
                    rest /= 10
                }
                offset += digits
            }
            func put(_ scalar: Unicode.Scalar) {
                buffer[offset] = UInt8(ascii: scalar)
                offset += 1
            }
            put(year, digits: 4)
            put("-")
            put(month, digits: 2)
            put("-")
            put(day, digits: 2)
            put("T")
            put(secondOfDay / 3600, digits: 2)
            put(":")
            put(secondOfDay / 60 % 60, digits: 2)
            put(":")
            put(secondOfDay % 60, digits: 2)
            put(".")
            put(fraction, digits: 6)
            put("Z")
            return offset
        }
    }

    /// Parses an RFC 3339 `date-time`.
    ///
    /// - Parameter text: The timestamp, e.g. `2026-11-29T10:00:00Z`, `2026-11-29T12:00:00.5+02:00`.
    /// - Returns: The date, or `nil` when `text` is not a valid `date-time` (wrong shape, a field
    ///   out of range such as month 13, hour 24 or February 30, or trailing bytes).
    public static func parse(_ text: Substring) -> Date? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ parse(bytes: $0) }) {
            return result
        }
        return Array(text.utf8).withUnsafeBufferPointer { parse(bytes: $0) }
    }

    /// Parses an RFC 3339 `date-time`, as the `Substring` overload does.
    public static func parse(_ text: String) -> Date? {
        parse(text[...])
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var reader = Reader(bytes: bytes)
        guard let year = reader.number(digits: 4), reader.skip("-"),
            let month = reader.number(digits: 2), reader.skip("-"),
            let day = reader.number(digits: 2), reader.skip("T") || reader.skip("t"),
            let hour = reader.number(digits: 2), reader.skip(":"),
            let minute = reader.number(digits: 2), reader.skip(":"),
            let second = reader.number(digits: 2)
        else {
            return nil
        }
        guard (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day),
            hour < 24, minute < 60, second <= 60
        else {
            return nil
        }
        var nanoseconds: Int64 = 0
        if reader.skip(".") {
            var digits = 0
            while let digit = reader.digit() {
                if digits < 9 {
                    nanoseconds = nanoseconds * 10 + digit
                }
                digits += 1
            }
            guard digits > 0 else {
                return nil
            }
            for _ in min(digits, 9)..<9 {
                nanoseconds *= 10
            }
        }
        var offsetSeconds: Int64 = 0
        if reader.skip("Z") || reader.skip("z") {
            offsetSeconds = 0
        } else {
            let sign: Int64
            if reader.skip("+") {
                sign = 1
            } else if reader.skip("-") {
                sign = -1
            } else {
                return nil
            }
            guard let offsetHours = reader.number(digits: 2), reader.skip(":"),
                let offsetMinutes = reader.number(digits: 2), offsetHours < 24, offsetMinutes < 60
            else {
                return nil
            }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard reader.isAtEnd else {
            return nil
        }
        let days = days(fromCivilYear: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
    }

    /// Reads fixed-width fields from the timestamp bytes.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var isAtEnd: Bool {
            self.index == self.bytes.count
        }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: character) else {
                return false
            }
            self.index += 1
            return true
        }

        mutating func digit() -> Int64? {
            guard self.index < self.bytes.count, ASCII.isDigit(self.bytes[self.index]) else {
                return nil
            }
            defer { self.index += 1 }
            return Int64(self.bytes[self.index] &- ASCII.zero)
        }

        mutating func number(digits: Int) -> Int64? {
            var value: Int64 = 0
            for _ in 0..<digits {
                guard let digit = self.digit() else {
                    return nil
                }
                value = value * 10 + digit
            }
            return value
        }
    }

    private static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Floor division and its non-negative remainder, so times before 1970 format correctly.
    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
    private static func days(fromCivilYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400).quotient
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097).quotient
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

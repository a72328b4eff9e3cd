import Foundation
import LiaisonCore
import Testing

@Suite struct RFC3339Tests {
    /// 2026-11-29T10:00:00Z as seconds since 1970.
    static let base: TimeInterval = 1_795_946_400

    @Test(arguments: [
        ("2026-11-29T10:00:00Z", 0.0),
        ("2026-11-29t10:00:00z", 0.0),
        ("2026-11-29T10:00:00.5Z", 0.5),
        ("2026-11-29T10:00:00.123456Z", 0.123_456),
        ("2026-11-29T10:00:00.123456789Z", 0.123_456_789),
        ("2026-11-29T10:00:00.1234567891234Z", 0.123_456_789),
        ("2026-11-29T12:00:00+02:00", 0.0),
        ("2026-11-29T04:30:00-05:30", 0.0),
        ("2026-11-30T00:00:00+14:00", 0.0),
        ("2026-11-29T10:00:00-00:00", 0.0),
        ("2026-11-29T10:00:00.25+00:00", 0.25),
        ("2026-11-29T09:59:60Z", 0.0),
    ])
    func parses(text: String, secondsAfterBase: Double) throws {
        let date = try #require(RFC3339.parse(text[...]))
        #expect(abs(date.timeIntervalSince1970 - (Self.base + secondsAfterBase)) < 1e-6)
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2000-02-29T00:00:00Z", 951_782_400.0),
        ("1969-12-31T23:59:59.5Z", -0.5),
        ("1900-03-01T00:00:00Z", -2_203_891_200.0),
        ("0001-01-01T00:00:00Z", -62_135_596_800.0),
    ])
    func parsesAcrossEras(text: String, seconds: Double) throws {
        #expect(try #require(RFC3339.parse(text)).timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "",
        "2026-11-29",
        "2026-11-29T10:00:00",
        "2026-11-29 10:00:00Z",
        "2026-11-29T10:00Z",
        "2026-11-29T10:00:00.Z",
        "2026-11-29T10:00:00+0200",
        "2026-11-29T10:00:00+02",
        "2026-11-29T10:00:00+24:00",
        "2026-11-29T10:00:00+02:60",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-29T24:00:00Z",
        "2026-11-29T10:60:00Z",
        "2026-11-29T10:00:61Z",
        "2026-11-29T10:00:00Zjunk",
        "+2026-11-29T10:00:00Z",
        "26-11-29T10:00:00Z",
        "2026-1-29T10:00:00Z",
        "２０２６-11-29T10:00:00Z",
    ])
    func rejects(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func acceptsFebruary29InLeapYears() {
        #expect(RFC3339.parse("2028-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("2000-02-29T00:00:00Z") != nil)
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000000Z"),
        (base, "2026-11-29T10:00:00.000000Z"),
        (base + 0.123_456, "2026-11-29T10:00:00.123456Z"),
        (base + 0.000_000_3, "2026-11-29T10:00:00.000000Z"),
        (base + 59.999_999_6, "2026-11-29T10:01:00.000000Z"),
        (-0.5, "1969-12-31T23:59:59.500000Z"),
        (951_782_400.0 + 86_399.999_999, "2000-02-29T23:59:59.999999Z"),
        (4_102_444_800.0, "2100-01-01T00:00:00.000000Z"),
        (-62_135_596_800.0, "0001-01-01T00:00:00.000000Z"),
        (1e15, "9999-12-31T23:59:59.999999Z"),
        (-1e15, "0000-01-01T00:00:00.000000Z"),
    ])
    func formats(seconds: Double, text: String) {
        #expect(RFC3339.format(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test(arguments: [
        "2026-11-29T10:00:00.123456Z",
        "2026-11-29T10:00:00.000001Z",
        "2026-11-29T10:00:00.999999Z",
        "1999-12-31T23:59:59.999999Z",
        "2024-02-29T12:34:56.654321Z",
        "1969-07-20T20:17:40.000000Z",
    ])
    func roundTripsMicroseconds(text: String) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(RFC3339.format(date) == text)
    }

    @Test func roundTripsOffsetsToUTC() throws {
        let date = try #require(RFC3339.parse("2026-11-29T12:30:15.75+02:30"))
        #expect(RFC3339.format(date) == "2026-11-29T10:00:15.750000Z")
    }

    @Test func roundTripsEveryMicrosecondOfASecond() throws {
        for micros in stride(from: 0, to: 1_000_000, by: 997) {
            let text = "2026-11-29T10:00:00.\(String(micros + 1_000_000).dropFirst())Z"
            #expect(RFC3339.format(try #require(RFC3339.parse(text))) == text)
        }
    }
}

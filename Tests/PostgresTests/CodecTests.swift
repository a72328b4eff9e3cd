import Foundation
import Postgres
import Testing

/// Round trips of every encodable and decodable type through a real server.
@Suite(.temporaryDatabase)
struct CodecTests {
    /// Binds `value` as `$1`, casts it to `cast`, and decodes it back.
    private func roundTrip<T: PostgresEncodable & PostgresDecodable>(_ value: T, cast: String) throws -> T {
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query("SELECT $1::\(cast)", [value.postgresBind])
        return try result.decode(T.self, row: 0, column: 0)
    }

    @Test(arguments: [Int64.min, -1, 0, 1, 42, Int64.max])
    func int64RoundTrips(value: Int64) throws {
        #expect(try roundTrip(value, cast: "int8") == value)
    }

    @Test(arguments: [Int32.min, -1, 0, 7, Int32.max])
    func int32RoundTrips(value: Int32) throws {
        #expect(try roundTrip(value, cast: "int4") == value)
    }

    @Test(arguments: [Int.min, 0, 1 << 40, Int.max])
    func intRoundTrips(value: Int) throws {
        #expect(try roundTrip(value, cast: "int8") == value)
    }

    @Test(arguments: [true, false])
    func boolRoundTrips(value: Bool) throws {
        #expect(try roundTrip(value, cast: "bool") == value)
    }

    @Test(arguments: [
        0.0, -1.5, Double.pi, Double.greatestFiniteMagnitude, -Double.infinity, Double.leastNonzeroMagnitude,
    ])
    func doubleRoundTrips(value: Double) throws {
        #expect(try roundTrip(value, cast: "float8") == value)
    }

    @Test(arguments: ["", "plain", "Ünïcødé — 日本語 — عربى — 🇺🇳🕊️", "tab\tline\nreturn\r", "quote ' \" \\ end"])
    func textRoundTrips(value: String) throws {
        #expect(try roundTrip(value, cast: "text") == value)
    }

    @Test(arguments: [[UInt8](), [0x00], [0x00, 0x0A, 0x0D, 0x00, 0xFF], Array(0...255)])
    func byteaRoundTripsWithControlBytes(value: [UInt8]) throws {
        #expect(try roundTrip(value, cast: "bytea") == value)
    }

    @Test
    func dateKeepsMicrosecondsAndMeansUTC() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123_456)
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query(
            "SELECT $1::timestamptz, $1::timestamptz = '2023-11-14 22:13:20.123456+00'::timestamptz",
            [date.postgresBind]
        )
        let decoded = try result.decode(Date.self, row: 0, column: 0)
        #expect(PostgresTimestamp.microseconds(from: decoded) == PostgresTimestamp.microseconds(from: date))
        #expect(abs(decoded.timeIntervalSince(date)) < 0.000_001)
        #expect(try result.decode(Bool.self, row: 0, column: 1))
    }

    @Test
    func timestampWithoutZoneAndInfinityDecode() throws {
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query(
            "SELECT '2000-01-01 00:00:00.000001'::timestamp, 'infinity'::timestamptz, '-infinity'::timestamptz"
        )
        let first = try result.decode(Date.self, row: 0, column: 0)
        #expect(PostgresTimestamp.microseconds(from: first) == 1)
        #expect(try result.decode(Date.self, row: 0, column: 1) == .distantFuture)
        #expect(try result.decode(Date.self, row: 0, column: 2) == .distantPast)
    }

    @Test
    func nilBindsNullAndOptionalDecodesNil() throws {
        let connection = try TemporaryDatabase.connect()
        let missing: Int64? = nil
        let present: String? = "here"
        let result = try connection.query("SELECT $1::int8, $2::text", missing, present)
        #expect(result.isNull(row: 0, column: 0))
        #expect(!result.isNull(row: 0, column: 1))
        #expect(try result.decode(Int64?.self, row: 0, column: 0) == nil)
        #expect(try result.decode(String?.self, row: 0, column: 1) == "here")
        let error = #expect(throws: PostgresError.self) { try result.decode(Int64.self, row: 0, column: 0) }
        #expect(error?.code == .decoding)
    }

    @Test
    func integersWidenFromEverySize() throws {
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query("SELECT (-7)::int2, 70000::int4, 5000000000::int8")
        #expect(try result.decode(Int.self, row: 0, column: 0) == -7)
        #expect(try result.decode(Int32.self, row: 0, column: 1) == 70_000)
        #expect(try result.decode(Int64.self, row: 0, column: 2) == 5_000_000_000)
        let error = #expect(throws: PostgresError.self) { try result.decode(Int32.self, row: 0, column: 2) }
        #expect(error?.code == .decoding)
    }

    @Test
    func typeMismatchIsADecodingErrorNamingTheColumn() throws {
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query("SELECT 1::int4 AS answer")
        let error = #expect(throws: PostgresError.self) { try result.decode(String.self, row: 0, column: 0) }
        #expect(error?.code == .decoding)
        #expect(error?.message.contains("answer") == true)
    }

    @Test
    func textLikeTypesAndJsonbDecodeAsString() throws {
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query(
            "SELECT 'v'::varchar, 'n'::name, $1::jsonb, '{\"b\": [1, 2]}'::jsonb",
            [.jsonb(#"{"prio":"flash"}"#)]
        )
        #expect(try result.decode(String.self, row: 0, column: 0) == "v")
        #expect(try result.decode(String.self, row: 0, column: 1) == "n")
        #expect(try result.decode(String.self, row: 0, column: 2) == #"{"prio": "flash"}"#)
        #expect(try result.decode(String.self, row: 0, column: 3) == #"{"b": [1, 2]}"#)
    }

    @Test
    func textFormatBindIsParsedByTheServer() throws {
        let connection = try TemporaryDatabase.connect()
        let uuid = "2c7e5b8a-1f0e-4d7c-9a3b-5e6f7a8b9c0d"
        let result = try connection.query("SELECT $1::uuid::text", [.text(uuid)])
        #expect(try result.decode(String.self, row: 0, column: 0) == uuid)
    }

    @Test
    func columnsAreFoundByExactName() throws {
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query(#"SELECT 1::int8 AS seq, 'x'::text AS "Topic""#)
        #expect(result.columnCount == 2)
        #expect(result.columnName(1) == "Topic")
        #expect(result.columnIndex("Topic") == 1)
        #expect(result.columnIndex("topic") == nil)
        #expect(try result.decode(Int64.self, row: 0, column: "seq") == 1)
        let error = #expect(throws: PostgresError.self) { try result.decode(Int64.self, row: 0, column: "nope") }
        #expect(error?.code == .invalidArgument)
    }

    @Test
    func cellBytesAreReadableWithoutCopy() throws {
        let connection = try TemporaryDatabase.connect()
        let payload: [UInt8] = [1, 0, 10, 13, 255]
        let result = try connection.query("SELECT $1::bytea, NULL::bytea", [payload.postgresBind])
        #expect(result.withUnsafeBytes(row: 0, column: 0) { Array($0) } == payload)
        #expect(result.withUnsafeBytes(row: 0, column: 1) { $0.count } == 0)
    }
}

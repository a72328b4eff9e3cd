import Foundation
import Postgres
import Testing

/// One-dimensional arrays through a real server, and their byte layout without one.
@Suite(.temporaryDatabase)
struct ArrayCodecTests {
    @Test(arguments: [0, 1, 10_000])
    func textArrayRoundTripsAndUnnests(count: Int) throws {
        let connection = try TemporaryDatabase.connect()
        let values = (0..<count).map { "topic.\($0).ünï\t\n" }
        let whole = try connection.query("SELECT $1::text[]", [values.postgresBind])
        #expect(try whole.decode([String].self, row: 0, column: 0) == values)
        let rows = try connection.query("SELECT unnest($1::text[])", [values.postgresBind])
        #expect(rows.rowCount == count)
        if count > 0 {
            #expect(try rows.decode(String.self, row: count - 1, column: 0) == values[count - 1])
        }
    }

    @Test(arguments: [0, 1, 10_000])
    func int8ArrayRoundTrips(count: Int) throws {
        let connection = try TemporaryDatabase.connect()
        let values = (0..<count).map { Int64($0) * 1_000_003 - 7 }
        let result = try connection.query(
            "SELECT $1::int8[], coalesce(sum(x), 0)::int8 FROM unnest($1::int8[]) AS x",
            [
                values.postgresBind
            ]
        )
        #expect(try result.decode([Int64].self, row: 0, column: 0) == values)
        #expect(try result.decode(Int64.self, row: 0, column: 1) == values.reduce(0, +))
    }

    @Test(arguments: [0, 1, 10_000])
    func byteaArrayRoundTrips(count: Int) throws {
        let connection = try TemporaryDatabase.connect()
        let values: [[UInt8]] = (0..<count).map { index in [0x00, 0x0A, 0x0D, UInt8(index % 256)] }
        let result = try connection.query("SELECT $1::bytea[]", [values.postgresBind])
        #expect(try result.decode([[UInt8]].self, row: 0, column: 0) == values)
    }

    @Test
    func timestamptzArrayRoundTripsToTheMicrosecond() throws {
        let connection = try TemporaryDatabase.connect()
        let values = (0..<100).map { Date(timeIntervalSince1970: 1_700_000_000 + Double($0) * 0.000_001) }
        let result = try connection.query("SELECT $1::timestamptz[]", [values.postgresBind])
        let decoded = try result.decode([Date].self, row: 0, column: 0)
        #expect(decoded.map(PostgresTimestamp.microseconds(from:)) == values.map(PostgresTimestamp.microseconds(from:)))
    }

    @Test
    func otherElementTypesRoundTrip() throws {
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query(
            "SELECT $1::int4[], $2::bool[], $3::float8[], $4::int8[]",
            [Int32(-1), 2].postgresBind,
            [true, false].postgresBind,
            [1.5, -0.25].postgresBind,
            [Int.max, Int.min].postgresBind
        )
        #expect(try result.decode([Int32].self, row: 0, column: 0) == [-1, 2])
        #expect(try result.decode([Bool].self, row: 0, column: 1) == [true, false])
        #expect(try result.decode([Double].self, row: 0, column: 2) == [1.5, -0.25])
        #expect(try result.decode([Int].self, row: 0, column: 3) == [Int.max, Int.min])
    }

    @Test
    func nullElementsAndTwoDimensionsAreDecodingErrors() throws {
        let connection = try TemporaryDatabase.connect()
        let result = try connection.query("SELECT ARRAY['a', NULL]::text[], ARRAY[[1, 2], [3, 4]]::int8[]")
        let nullElement = #expect(throws: PostgresError.self) { try result.decode([String].self, row: 0, column: 0) }
        #expect(nullElement?.code == .decoding)
        let twoDimensions = #expect(throws: PostgresError.self) { try result.decode([Int64].self, row: 0, column: 1) }
        #expect(twoDimensions?.code == .decoding)
    }

    /// The byte layout of `array_send`, checked without a server.
    @Test
    func int8ArrayHasArraySendLayout() throws {
        let bytes = try #require([Int64(1), -2].postgresBind.bytes)
        let expected: [UInt8] =
            [0, 0, 0, 1] + [0, 0, 0, 0] + [0, 0, 0, 20] + [0, 0, 0, 2] + [0, 0, 0, 1]
            + [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 254]
        #expect(bytes == expected)
        #expect([Int64(1)].postgresBind.type == .int8Array)
        #expect([String]().postgresBind.bytes == [0, 0, 0, 0] + [0, 0, 0, 0] + [0, 0, 0, 25])
    }

    /// PostgreSQL's epoch is 2000-01-01 UTC, 946,684,800 s after the Unix epoch.
    @Test(arguments: [
        (946_684_800.0, Int64(0)),
        (946_684_800.000_001, Int64(1)),
        (946_684_799.0, Int64(-1_000_000)),
        (1_700_000_000.5, Int64(753_315_200_500_000)),
    ])
    func timestampMicrosecondsCountFrom2000(unixSeconds: Double, microseconds: Int64) {
        let date = Date(timeIntervalSince1970: unixSeconds)
        #expect(PostgresTimestamp.microseconds(from: date) == microseconds)
        #expect(abs(PostgresTimestamp.date(fromMicroseconds: microseconds).timeIntervalSince(date)) < 0.000_001)
    }
}

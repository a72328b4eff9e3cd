import Foundation
import LiaisonBench
import LiaisonCore
import Postgres

/// The baseline of `bench`: how fast PostgreSQL itself takes the same rows with a plain
/// `COPY … FROM STDIN`, committed, on the same database.
///
/// The rows go into a scratch table made `LIKE messages INCLUDING ALL` (same columns, indexes and
/// storage), so live subscribers never see them and `max(seq)` of the log never moves; the table
/// is dropped after the measurement. Only the COPY and its commit are timed; the COPY data (text
/// format, payload as `\x` hex bytea) is built beforehand.
enum CopyBaseline {
    /// What one COPY measured.
    struct Measurement: Sendable {
        var rows: Int
        var elapsed: Duration

        var rowsPerSecond: Double {
            Double(self.rows) / max(BenchStatistics.seconds(self.elapsed), 1e-9)
        }
    }

    /// Copies `rows` rows of `size`-byte payloads, commits, then deletes them.
    ///
    /// - Parameters:
    ///   - rows: How many rows.
    ///   - size: Payload bytes per row.
    ///   - pool: Random bytes to take payloads from; at least `size` bytes.
    ///   - topic: The topic written into the rows.
    ///   - account: The account written into the rows.
    ///   - worker: The database worker to run on.
    /// - Throws: The database error; the rows are then rolled back.
    static func measure(
        rows: Int,
        size: Int,
        pool: [UInt8],
        topic: String,
        account: String,
        worker: PostgresWorker
    ) async throws -> Measurement {
        let firstSeq = 9_000_000_000_000_000 + Int64.random(in: 0..<1_000_000_000_000)
        let data = Self.copyData(
            rows: rows,
            size: size,
            pool: pool,
            firstSeq: firstSeq,
            topic: topic,
            account: account
        )
        let table = "liaison_bench_copy_\(UInt32.random(in: 0...UInt32.max))"
        let elapsed = try await worker.run { connection in
            try connection.execute(script: "CREATE TABLE \(table) (LIKE messages INCLUDING ALL)")
            defer { try? connection.execute(script: "DROP TABLE IF EXISTS \(table)") }
            let start = ContinuousClock.now
            _ = try connection.transaction { connection in
                try connection.copyFrom(
                    "COPY \(table) (seq, topic, account, published_at, headers, payload) FROM STDIN"
                ) { writer in
                    try writer.write(data)
                }
            }
            return ContinuousClock.now - start
        }
        return Measurement(rows: rows, elapsed: elapsed)
    }

    /// The COPY text-format data: one row per line, tab-separated; the bytea hex form `\x…`
    /// has its backslash doubled, as COPY's text format requires.
    private static func copyData(
        rows: Int,
        size: Int,
        pool: [UInt8],
        firstSeq: Int64,
        topic: String,
        account: String
    ) -> [UInt8] {
        let hexDigits = Array("0123456789abcdef".utf8)
        let publishedAt = RFC3339.format(Date())
        var data: [UInt8] = []
        data.reserveCapacity(rows * (2 * size + 96 + topic.utf8.count))
        let span = max(pool.count - size, 1)
        for row in 0..<rows {
            data.append(contentsOf: "\(firstSeq + Int64(row))\t\(topic)\t\(account)\t\(publishedAt)\t{}\t\\\\x".utf8)
            let offset = (row &* 131) % span
            for byte in pool[offset..<(offset + size)] {
                data.append(hexDigits[Int(byte >> 4)])
                data.append(hexDigits[Int(byte & 0x0F)])
            }
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }
}

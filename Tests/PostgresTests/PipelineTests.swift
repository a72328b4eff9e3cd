import Postgres
import Testing

/// Pipeline mode: many statements in one round trip, failures, prepared statements.
@Suite(.temporaryDatabase)
struct PipelineTests {
    @Test
    func thousandInsertsInOneCall() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE piped (n int8 PRIMARY KEY, label text)")
        let statements = (1...1_000).map { index in
            Statement("INSERT INTO piped VALUES ($1, $2)", [Int64(index).postgresBind, "row \(index)".postgresBind])
        }
        let results = try connection.pipeline(statements)
        #expect(results.count == 1_000)
        #expect(results.allSatisfy { $0.affectedRows == 1 })
        let count = try connection.query("SELECT count(*), sum(n)::int8 FROM piped")
        #expect(try count.decode(Int64.self, row: 0, column: 0) == 1_000)
        #expect(try count.decode(Int64.self, row: 0, column: 1) == 500_500)
    }

    @Test
    func resultsComeBackInStatementOrder() throws {
        let connection = try TemporaryDatabase.connect()
        let statements = (0..<50).map { Statement("SELECT $1::int8 * 2", [Int64($0).postgresBind]) }
        let doubled = try connection.pipeline(statements).map { try $0.decode(Int64.self, row: 0, column: 0) }
        #expect(doubled == (0..<50).map { Int64($0) * 2 })
        #expect(try connection.pipeline([]).isEmpty)
    }

    @Test
    func failingStatementAbortsTheBatchAndKeepsTheConnectionUsable() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE piped_fail (n int8 PRIMARY KEY)")
        try connection.query("INSERT INTO piped_fail VALUES (500)")
        let statements = (1...1_000).map { Statement("INSERT INTO piped_fail VALUES ($1)", [Int64($0).postgresBind]) }
        let error = #expect(throws: PostgresError.self) { try connection.pipeline(statements) }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "23505")
        // The batch up to the Sync is one implicit transaction: nothing of it was kept.
        #expect(try connection.query("SELECT count(*) FROM piped_fail").decode(Int64.self, row: 0, column: 0) == 1)
        #expect(connection.isHealthy)
        #expect(!connection.isInTransaction)
        let again = try connection.pipeline([Statement("INSERT INTO piped_fail VALUES (1)"), Statement("SELECT 1")])
        #expect(again.count == 2)
        #expect(try connection.query("SELECT count(*) FROM piped_fail").decode(Int64.self, row: 0, column: 0) == 2)
    }

    @Test
    func preparedStatementsInAPipeline() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE piped_prepared (n int8)")
        try connection.prepare("piped_insert", "INSERT INTO piped_prepared VALUES ($1::int8)")
        let statements = (1...100).map { Statement(prepared: "piped_insert", [Int64($0).postgresBind]) }
        #expect(try connection.pipeline(statements).count == 100)
        #expect(
            try connection.query("SELECT count(*) FROM piped_prepared").decode(Int64.self, row: 0, column: 0) == 100
        )
    }

    @Test
    func pipelineOnATerminatedBackendThrowsAConnectionError() throws {
        let connection = try TemporaryDatabase.connect()
        let killer = try TemporaryDatabase.connect()
        try killer.query("SELECT pg_terminate_backend($1, 5000)", connection.backendPID)
        let error = #expect(throws: PostgresError.self) {
            try connection.pipeline([Statement("SELECT 1"), Statement("SELECT 2")])
        }
        #expect(error?.isConnectionError == true)
        try connection.reset()
        #expect(try connection.pipeline([Statement("SELECT 1"), Statement("SELECT 2")]).count == 2)
        #expect(try connection.query("SELECT 3").rowCount == 1)
    }
}

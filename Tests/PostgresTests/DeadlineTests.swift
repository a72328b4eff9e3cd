import Foundation
import Postgres
import Synchronization
import Testing

/// Connect timeouts, statement timeouts and job deadlines: a server that stops answering costs a
/// bounded wait, never a hang.
@Suite(.temporaryDatabase)
struct DeadlineTests {
    /// Connecting to a server that never answers fails after the connect timeout: 2 s from the
    /// options, or 2 s from the connection string overriding options that say 60 s.
    @Test(arguments: [("", 2), ("&connect_timeout=2", 60)])
    func connectingToAServerThatNeverAnswersTimesOut(conninfoSuffix: String, optionSeconds: Int) throws {
        let server = try HungServer()
        defer { server.stop() }
        let started = ContinuousClock.now
        let error = #expect(throws: PostgresError.self) {
            try Connection(
                server.url + conninfoSuffix,
                options: ConnectionOptions(connectTimeoutSeconds: optionSeconds)
            )
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("timeout") == true, "\(String(describing: error))")
        // Not a refused connect that failed at once: the listener took the connection, and libpq
        // waited for the timeout.
        #expect(server.acceptedCount >= 1)
        #expect(elapsed >= .milliseconds(1_800))
        #expect(elapsed < .seconds(10))
    }

    @Test
    func aQueryTheServerNeverAnswersTimesOutAndClosesTheConnection() throws {
        let server = try HungServer(silence: .afterStartup)
        defer { server.stop() }
        let connection = try Connection(server.url, options: ConnectionOptions(statementTimeoutMilliseconds: 500))
        #expect(connection.isHealthy)
        let started = ContinuousClock.now
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .timeout)
        #expect(error?.isConnectionError == true)
        #expect(error?.message.contains("may or may not") == true)
        #expect(elapsed >= .milliseconds(450))
        #expect(elapsed < .seconds(5))
        #expect(!connection.isHealthy)
        let after = #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        #expect(after?.code == .connectionLost)
    }

    @Test
    func aSlowStatementTimesOutAndANewConnectionWorks() throws {
        let options = ConnectionOptions(statementTimeoutMilliseconds: 500)
        let connection = try Connection(TemporaryDatabase.currentURL(), options: options)
        let pid = connection.backendPID
        let started = ContinuousClock.now
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT pg_sleep(30)") }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .timeout)
        #expect(elapsed >= .milliseconds(450))
        #expect(elapsed < .seconds(5))
        #expect(!connection.isHealthy)

        let fresh = try Connection(TemporaryDatabase.currentURL(), options: options)
        #expect(try fresh.query("SELECT 41 + 1").decode(Int.self, row: 0, column: 0) == 42)
        // The server was not told to stop; end the abandoned sleep instead of leaving it 30 s.
        try fresh.query("SELECT pg_terminate_backend($1)", pid)
    }

    @Test
    func everyKindOfRoundTripStillWorksUnderTheTimeout() throws {
        let connection = try Connection(
            TemporaryDatabase.currentURL(),
            options: ConnectionOptions(statementTimeoutMilliseconds: 2_000)
        )
        try connection.execute(script: "CREATE TABLE timed (n int8); INSERT INTO timed VALUES (1)")
        try connection.prepare("timed_insert", "INSERT INTO timed VALUES ($1::int8)")
        try connection.executePrepared("timed_insert", [Int64(2).postgresBind])
        try connection.transaction { _ = try $0.query("INSERT INTO timed VALUES ($1)", Int64(3)) }
        let piped = try connection.pipeline([
            Statement("INSERT INTO timed VALUES ($1)", [Int64(4).postgresBind]),
            Statement("SELECT count(*) FROM timed"),
        ])
        #expect(try piped[1].decode(Int.self, row: 0, column: 0) == 4)
        let copied = try connection.copyFrom("COPY timed (n) FROM STDIN") { writer in
            try writer.writeTextRow(["5"])
        }
        #expect(copied == 1)
        #expect(
            try connection.query("SELECT pg_sleep(0.2), sum(n)::int8 FROM timed").decode(Int.self, row: 0, column: 1)
                == 15
        )
        let error = #expect(throws: PostgresError.self) { try connection.query("SELEC") }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "42601")
        #expect(connection.isHealthy)
    }

    @Test
    func aPipelineThatOutlastsTheTimeoutTimesOut() throws {
        let connection = try Connection(
            TemporaryDatabase.currentURL(),
            options: ConnectionOptions(statementTimeoutMilliseconds: 500)
        )
        let pid = connection.backendPID
        let error = #expect(throws: PostgresError.self) {
            try connection.pipeline([Statement("SELECT 1"), Statement("SELECT pg_sleep(30)")])
        }
        #expect(error?.code == .timeout)
        #expect(!connection.isHealthy)
        try TemporaryDatabase.connect().query("SELECT pg_terminate_backend($1)", pid)
    }

    @Test
    func aStatementTimeoutInAJobMakesTheWorkerReconnect() async throws {
        let url = try TemporaryDatabase.currentURL()
        let worker = PostgresWorker(name: "pgtests-statement-timeout") {
            try Connection(url, options: ConnectionOptions(statementTimeoutMilliseconds: 300))
        }
        defer { worker.shutdown() }
        let oldPID = try await worker.run { $0.backendPID }
        let error = await #expect(throws: PostgresError.self) {
            try await worker.run { _ = try $0.query("SELECT pg_sleep(30)") }
        }
        #expect(error?.code == .timeout)
        let newPID = try await worker.run { $0.backendPID }
        #expect(newPID != oldPID)
        try TemporaryDatabase.connect().query("SELECT pg_terminate_backend($1)", oldPID)
    }
}

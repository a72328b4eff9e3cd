import Foundation
import Postgres
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Queries, errors, transactions, prepared statements, notices and lost connections.
@Suite(.temporaryDatabase)
struct ConnectionTests {
    @Test
    func connectsAndReportsTheServer() throws {
        let connection = try TemporaryDatabase.connect()
        #expect(connection.isHealthy)
        #expect(connection.serverVersion >= 140_000)
        #expect(connection.backendPID > 0)
        let pid = try connection.query("SELECT pg_backend_pid()").decode(Int32.self, row: 0, column: 0)
        #expect(pid == connection.backendPID)
        connection.close()
        connection.close()
        #expect(!connection.isHealthy)
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        #expect(error?.code == .connectionLost)
    }

    @Test
    func clientEncodingIsAlwaysUTF8() throws {
        let connection = try Connection(TemporaryDatabase.currentURL() + "?client_encoding=LATIN1")
        #expect(try connection.query("SHOW client_encoding").decode(String.self, row: 0, column: 0) == "UTF8")
        let text = "ünïcødé 日本語"
        #expect(try connection.query("SELECT $1::text", text).decode(String.self, row: 0, column: 0) == text)
    }

    @Test
    func badPortIsAConnectionFailure() throws {
        let error = #expect(throws: PostgresError.self) {
            try Connection("postgresql://liaison@127.0.0.1:1/postgres?connect_timeout=2")
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isConnectionError == true)
        #expect(error?.message.isEmpty == false)
    }

    @Test
    func duplicateKeyKeepsSQLStateAndTheConnectionStaysUsable() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE dup (id int8 PRIMARY KEY)")
        try connection.query("INSERT INTO dup VALUES ($1)", Int64(1))
        let error = #expect(throws: PostgresError.self) {
            try connection.query("INSERT INTO dup VALUES ($1)", Int64(1))
        }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "23505")
        #expect(error?.detail?.contains("(id)=(1)") == true)
        #expect(error?.isConnectionError == false)
        #expect(try connection.query("SELECT count(*) FROM dup").decode(Int64.self, row: 0, column: 0) == 1)
    }

    @Test
    func syntaxErrorKeepsSQLState() throws {
        let connection = try TemporaryDatabase.connect()
        let error = #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }
        #expect(error?.sqlState == "42601")
        #expect(error?.description.contains("42601") == true)
        #expect(try connection.query("SELECT 1").rowCount == 1)
    }

    @Test
    func affectedRowsCountsChangedRows() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE affected (n int8)")
        let insert = try connection.query("INSERT INTO affected SELECT generate_series(1, 5)")
        #expect(insert.affectedRows == 5)
        #expect(try connection.query("UPDATE affected SET n = n + 1 WHERE n > 3").affectedRows == 2)
        #expect(try connection.query("CREATE INDEX ON affected (n)").affectedRows == 0)
    }

    @Test
    func transactionCommitsOnSuccess() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE committed (n int8)")
        let returned = try connection.transaction { transaction in
            try transaction.query("INSERT INTO committed VALUES (1), (2)")
            return "done"
        }
        #expect(returned == "done")
        #expect(!connection.isInTransaction)
        let other = try TemporaryDatabase.connect()
        #expect(try other.query("SELECT count(*) FROM committed").decode(Int64.self, row: 0, column: 0) == 2)
    }

    @Test
    func transactionRollsBackWhenTheBodyThrows() throws {
        struct Abandon: Error {}
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE rolled (n int8)")
        #expect(throws: Abandon.self) {
            try connection.transaction { transaction in
                try transaction.query("INSERT INTO rolled VALUES (1)")
                throw Abandon()
            }
        }
        #expect(!connection.isInTransaction)
        #expect(try connection.query("SELECT count(*) FROM rolled").decode(Int64.self, row: 0, column: 0) == 0)
    }

    @Test
    func swallowedErrorInATransactionIsNotReportedAsCommitted() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE swallowed (n int8 PRIMARY KEY)")
        let error = #expect(throws: PostgresError.self) {
            try connection.transaction { transaction in
                try transaction.query("INSERT INTO swallowed VALUES (1)")
                _ = try? transaction.query("INSERT INTO swallowed VALUES (1)")
            }
        }
        #expect(error?.sqlState == "25P02")
        #expect(try connection.query("SELECT count(*) FROM swallowed").decode(Int64.self, row: 0, column: 0) == 0)
    }

    @Test
    func preparedStatementsRunWithBinds() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE prepared (id int8, topic text)")
        try connection.prepare("insert_topic", "INSERT INTO prepared VALUES ($1::int8, $2::text)")
        for id in 1...3 {
            try connection.executePrepared("insert_topic", [Int64(id).postgresBind, "t\(id)".postgresBind])
        }
        try connection.prepare("topic_by_id", "SELECT topic FROM prepared WHERE id = $1::int8")
        let result = try connection.executePrepared("topic_by_id", [Int64(2).postgresBind])
        #expect(try result.decode(String.self, row: 0, column: 0) == "t2")
        let duplicate = #expect(throws: PostgresError.self) { try connection.prepare("topic_by_id", "SELECT 1") }
        #expect(duplicate?.sqlState == "42P05")
        let unknown = #expect(throws: PostgresError.self) { try connection.executePrepared("nope", []) }
        #expect(unknown?.sqlState == "26000")
    }

    @Test
    func scriptRunsSeveralStatementsAndStopsAtTheFirstError() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.execute(
            script: "CREATE TABLE scripted (n int8); INSERT INTO scripted VALUES (1); INSERT INTO scripted VALUES (2);"
        )
        #expect(try connection.query("SELECT count(*) FROM scripted").decode(Int64.self, row: 0, column: 0) == 2)
        let error = #expect(throws: PostgresError.self) {
            try connection.execute(
                script: "INSERT INTO scripted VALUES (3); SELECT * FROM missing_table; INSERT INTO scripted VALUES (4);"
            )
        }
        #expect(error?.sqlState == "42P01")
        // One simple-protocol query string is one implicit transaction: nothing of it stays.
        #expect(try connection.query("SELECT count(*) FROM scripted").decode(Int64.self, row: 0, column: 0) == 2)
    }

    @Test
    func noticesReachTheHandlerAndNeverStderr() throws {
        let connection = try TemporaryDatabase.connect()
        let received = Mutex<[String]>([])
        connection.noticeHandler = { message in received.withLock { $0.append(message) } }
        try connection.query("DO $$ BEGIN RAISE NOTICE 'relay marker %', 42; END $$")
        #expect(received.withLock { $0 } == ["NOTICE: relay marker 42"])

        connection.noticeHandler = nil
        let captured = try captureStandardError {
            try connection.query("DO $$ BEGIN RAISE NOTICE 'stderr marker'; RAISE WARNING 'stderr marker'; END $$")
        }
        #expect(!captured.contains("stderr marker"))
    }

    @Test
    func terminatedBackendIsAConnectionErrorAndResetRecovers() throws {
        let victim = try TemporaryDatabase.connect()
        let killer = try TemporaryDatabase.connect()
        let oldPID = victim.backendPID
        let terminated = try killer.query("SELECT pg_terminate_backend($1, 5000)", oldPID)
        #expect(try terminated.decode(Bool.self, row: 0, column: 0))
        let error = #expect(throws: PostgresError.self) { try victim.query("SELECT 1") }
        #expect(error?.isConnectionError == true)
        #expect(!victim.isHealthy)
        try victim.reset()
        #expect(victim.isHealthy)
        #expect(victim.backendPID != oldPID)
        #expect(try victim.query("SELECT 2::int8").decode(Int64.self, row: 0, column: 0) == 2)
    }

    @Test
    func probeNoticesABackendEndedWhileIdleWithoutDisturbingALiveOne() throws {
        let victim = try TemporaryDatabase.connect()
        let killer = try TemporaryDatabase.connect()
        #expect(victim.probe())
        #expect(try victim.query("SELECT 1::int8").decode(Int64.self, row: 0, column: 0) == 1)
        try killer.query("SELECT pg_terminate_backend($1, 5000)", victim.backendPID)
        #expect(!victim.probe())
        #expect(!victim.isHealthy)
        #expect(killer.probe())
    }
}

/// Runs `body` with file descriptor 2 redirected to a temporary file and returns what was written
/// there; the captured text is echoed to the real stderr afterwards so nothing is lost.
private func captureStandardError(_ body: () throws -> Void) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtests-stderr-\(UUID().uuidString)").path
    let file = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
    try #require(file >= 0)
    let saved = dup(2)
    dup2(file, 2)
    defer {
        dup2(saved, 2)
        close(saved)
        close(file)
        unlink(path)
    }
    try body()
    fsync(2)
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    FileHandle(fileDescriptor: saved).write(Data(text.utf8))
    return text
}

import Postgres
import Testing

/// COPY ... FROM STDIN.
@Suite(.temporaryDatabase)
struct CopyTests {
    @Test
    func tenThousandTextRows() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE copied (n int8, label text)")
        let rows = try connection.copyFrom("COPY copied (n, label) FROM STDIN") { writer in
            for index in 0..<10_000 {
                try writer.write(Array("\(index)\tlabel \(index)\n".utf8))
            }
        }
        #expect(rows == 10_000)
        let check = try connection.query("SELECT count(*), sum(n)::int8, max(label) FROM copied")
        #expect(try check.decode(Int64.self, row: 0, column: 0) == 10_000)
        #expect(try check.decode(Int64.self, row: 0, column: 1) == 49_995_000)
        #expect(try check.decode(String.self, row: 0, column: 2) == "label 9999")
    }

    @Test
    func textRowsEscapeSpecialCharactersAndNull() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE copied_escapes (n int8, label text)")
        let awkward = "tab\there\nline\rreturn \\ backslash \\N not null, ünïcødé"
        let rows = try connection.copyFrom("COPY copied_escapes FROM STDIN") { writer in
            try writer.writeTextRow(["1", awkward])
            try writer.writeTextRow(["2", nil])
        }
        #expect(rows == 2)
        let result = try connection.query("SELECT label FROM copied_escapes ORDER BY n")
        #expect(try result.decode(String?.self, row: 0, column: 0) == awkward)
        #expect(try result.decode(String?.self, row: 1, column: 0) == nil)
    }

    @Test
    func malformedDataIsAServerErrorAndNothingIsStored() throws {
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE copied_bad (n int8)")
        let error = #expect(throws: PostgresError.self) {
            try connection.copyFrom("COPY copied_bad FROM STDIN") { writer in
                try writer.write(Array("1\n2\nnot a number\n".utf8))
            }
        }
        #expect(error?.sqlState == "22P02")
        #expect(try connection.query("SELECT count(*) FROM copied_bad").decode(Int64.self, row: 0, column: 0) == 0)
    }

    @Test
    func throwingFeedAbortsTheCopy() throws {
        struct Stop: Error {}
        let connection = try TemporaryDatabase.connect()
        try connection.query("CREATE TABLE copied_abort (n int8)")
        #expect(throws: Stop.self) {
            try connection.copyFrom("COPY copied_abort FROM STDIN") { writer in
                try writer.write(Array("1\n".utf8))
                throw Stop()
            }
        }
        #expect(try connection.query("SELECT count(*) FROM copied_abort").decode(Int64.self, row: 0, column: 0) == 0)
    }

    @Test
    func statementThatIsNotCopyInIsRejected() throws {
        let connection = try TemporaryDatabase.connect()
        let notCopy = #expect(throws: PostgresError.self) { try connection.copyFrom("SELECT 1") { _ in } }
        #expect(notCopy?.code == .copyFailed)
        let copyOut = #expect(throws: PostgresError.self) {
            try connection.copyFrom("COPY (SELECT 1) TO STDOUT") { _ in }
        }
        #expect(copyOut?.code == .copyFailed)
        let missing = #expect(throws: PostgresError.self) {
            try connection.copyFrom("COPY nowhere FROM STDIN") { _ in }
        }
        #expect(missing?.sqlState == "42P01")
        #expect(try connection.query("SELECT 1").rowCount == 1)
    }
}

import Postgres
import Testing

/// `Connection.validate` and the check `Connection.init` makes before connecting; no server needed.
@Suite
struct ConnectionStringTests {
    @Test(
        arguments: [
            "postgres:/oops",
            "mydatabase",
            "host=",
            "host=''",
            "postgresql://[bad",
            "",
            "   ",
            "host=localhost bogus=1",
            "host='unterminated",
            "postgresql://liaison@127.0.0.1:notaport/db",
            "postgresql://liaison@127.0.0.1/db?sslmode=",
        ]
    )
    func malformedStringsAreRefused(conninfo: String) {
        let error = #expect(throws: PostgresError.self) { try Connection.validate(conninfo) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.isConnectionError == false)
    }

    @Test(arguments: ["postgres:/oops", "mydatabase", "", "host="])
    func refusalsSayWhatIsExpected(conninfo: String) {
        let error = #expect(throws: PostgresError.self) { try Connection.validate(conninfo) }
        #expect(error?.message.contains("expected postgresql://user@host:port/db or key=value pairs") == true)
    }

    @Test(
        arguments: [
            "postgresql://liaison@127.0.0.1:5432/postgres",
            "postgres://liaison:secret@db.example.com/liaison?sslmode=require&connect_timeout=5",
            "postgresql://liaison@[::1]:5432/postgres",
            "postgresql:///liaison?host=/tmp/pg/socket",
            "postgresql://host1:5432,host2:5433/db",
            "postgresql://liaison@10.0.0.1:5432,10.0.0.2:5432/liaison?target_session_attrs=read-write",
            "host=127.0.0.1 port=5432 dbname=liaison user=liaison",
            "host = 127.0.0.1 dbname='my db'",
        ]
    )
    func wellFormedStringsAreAccepted(conninfo: String) throws {
        try Connection.validate(conninfo)
    }

    @Test
    func messagesDoNotRepeatAPassword() {
        let error = #expect(throws: PostgresError.self) {
            try Connection.validate("postgresql://liaison:hunter2@[bad")
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("hunter2") == false, "\(String(describing: error))")
    }

    @Test
    func connectionRefusesAMalformedStringWithoutConnecting() {
        // libpq alone would take this as a database name and try the default local socket.
        let error = #expect(throws: PostgresError.self) { try Connection("postgres:/oops") }
        #expect(error?.code == .invalidArgument)
    }
}

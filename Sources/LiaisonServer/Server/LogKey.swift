/// Logger metadata keys, named in one place (as postgres-nio's Logging+PSQL.swift does).
enum LogKey {
    static let connection = "liaison.connection"
    static let remote = "liaison.remote"
    static let account = "liaison.account"
    static let sid = "liaison.sid"
    static let code = "liaison.error.code"
    static let error = "liaison.error"
}

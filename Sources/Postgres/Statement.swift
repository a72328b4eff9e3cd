/// One statement of a ``Connection/pipeline(_:)``: SQL text with binds, or a prepared statement's
/// name with binds.
public struct Statement: Sendable {
    /// What to run.
    enum Kind: Sendable {
        /// SQL text, sent with `PQsendQueryParams`.
        case sql(String)
        /// A statement prepared earlier in the session, sent with `PQsendQueryPrepared`.
        case prepared(String)
    }

    /// What to run.
    let kind: Kind
    /// The parameters, `$1` first.
    public var binds: [PostgresBind]

    /// A statement given as SQL text.
    ///
    /// - Parameters:
    ///   - sql: One SQL statement with `$1`, `$2`, ... placeholders.
    ///   - binds: The parameters, `$1` first.
    public init(_ sql: String, _ binds: [PostgresBind] = []) {
        self.kind = .sql(sql)
        self.binds = binds
    }

    /// A statement prepared earlier with ``Connection/prepare(_:_:)``.
    ///
    /// - Parameters:
    ///   - name: The prepared statement's name.
    ///   - binds: The parameters, `$1` first, of the types the server inferred at prepare time.
    public init(prepared name: String, _ binds: [PostgresBind]) {
        self.kind = .prepared(name)
        self.binds = binds
    }
}

internal import CLibPQ

/// The result of one statement: its rows in binary format, or its command status.
///
/// Owns libpq's `PGresult` and frees it on deinit, so a result may outlive the query call and even
/// the connection. Not `Sendable`: decode on the thread that ran the query and pass values on.
/// Rows and columns are zero-based.
public final class QueryResult {
    /// The owned `PGresult *`.
    let handle: OpaquePointer

    /// Takes ownership of `handle`.
    init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        PQclear(handle)
    }

    /// The number of rows returned (0 for commands that return none).
    public var rowCount: Int { Int(PQntuples(handle)) }

    /// The number of columns per row.
    public var columnCount: Int { Int(PQnfields(handle)) }

    /// The number of rows an INSERT, UPDATE, DELETE, MERGE, COPY, SELECT, MOVE or FETCH affected
    /// (libpq's `PQcmdTuples`); 0 when the command reports none.
    public var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else {
            return 0
        }
        return Int(String(cString: text)) ?? 0
    }

    /// The command tag the server sent, for example `"INSERT 0 3"` or `"COMMIT"`.
    public var commandStatus: String {
        guard let text = PQcmdStatus(handle) else {
            return ""
        }
        return String(cString: text)
    }

    /// The name of a column.
    ///
    /// - Parameter column: A column index in `0..<columnCount`.
    /// - Returns: The column's name as the server sent it.
    public func columnName(_ column: Int) -> String {
        precondition(column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
        return String(cString: PQfname(handle, Int32(column)))
    }

    /// The index of the first column named exactly `name` (case-sensitive, no identifier folding).
    ///
    /// - Parameter name: The column name.
    /// - Returns: The column index, or `nil` when no column has that name.
    public func columnIndex(_ name: String) -> Int? {
        for column in 0..<columnCount where columnName(column) == name {
            return column
        }
        return nil
    }

    /// The type OID of a column.
    ///
    /// - Parameter column: A column index in `0..<columnCount`.
    /// - Returns: The column's type.
    public func columnType(_ column: Int) -> PostgresDataType {
        precondition(column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
        return PostgresDataType(rawValue: PQftype(handle, Int32(column)))
    }

    /// Whether a cell is SQL NULL.
    ///
    /// - Parameters:
    ///   - row: A row index in `0..<rowCount`.
    ///   - column: A column index in `0..<columnCount`.
    /// - Returns: `true` for NULL.
    public func isNull(row: Int, column: Int) -> Bool {
        checkBounds(row: row, column: column)
        return PQgetisnull(handle, Int32(row), Int32(column)) == 1
    }

    /// Decodes one cell.
    ///
    /// - Parameters:
    ///   - type: The Swift type to decode into; use an `Optional` for a nullable column.
    ///   - row: A row index in `0..<rowCount`.
    ///   - column: A column index in `0..<columnCount`.
    /// - Returns: The decoded value.
    /// - Throws: `PostgresError(.decoding)` on a type mismatch or an unexpected NULL; the message
    ///   names the row and column.
    public func decode<T: PostgresDecodable>(_ type: T.Type, row: Int, column: Int) throws -> T {
        checkBounds(row: row, column: column)
        let columnType = PostgresDataType(rawValue: PQftype(handle, Int32(column)))
        do {
            return try withCell(row: row, column: column) { try T.decode(from: $0, type: columnType) }
        } catch var error as PostgresError {
            error.message += " (row \(row), column \(column) \"\(columnName(column))\")"
            throw error
        }
    }

    /// Decodes one cell of the column named `name`.
    ///
    /// - Parameters:
    ///   - type: The Swift type to decode into.
    ///   - row: A row index in `0..<rowCount`.
    ///   - name: The column name (exact match).
    /// - Returns: The decoded value.
    /// - Throws: `PostgresError(.invalidArgument)` when no column has that name, else as
    ///   ``decode(_:row:column:)-(_,_,Int)``.
    public func decode<T: PostgresDecodable>(_ type: T.Type, row: Int, column name: String) throws -> T {
        guard let column = columnIndex(name) else {
            throw PostgresError(.invalidArgument, "no column named \"\(name)\"")
        }
        return try decode(type, row: row, column: column)
    }

    /// Gives zero-copy access to a cell's binary bytes while this result lives, for bulk copies of
    /// large payloads. A NULL cell is an empty buffer; check ``isNull(row:column:)`` to tell it from
    /// an empty value.
    ///
    /// - Parameters:
    ///   - row: A row index in `0..<rowCount`.
    ///   - column: A column index in `0..<columnCount`.
    ///   - body: Reads the bytes; they must not escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withUnsafeBytes<R>(row: Int, column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        checkBounds(row: row, column: column)
        return try withCell(row: row, column: column) { try body($0 ?? UnsafeRawBufferPointer(start: nil, count: 0)) }
    }

    /// The cell's bytes, `nil` for NULL.
    private func withCell<R>(row: Int, column: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let row = Int32(row)
        let column = Int32(column)
        if PQgetisnull(handle, row, column) == 1 {
            return try body(nil)
        }
        let length = Int(PQgetlength(handle, row, column))
        return try body(UnsafeRawBufferPointer(start: PQgetvalue(handle, row, column), count: length))
    }

    private func checkBounds(row: Int, column: Int) {
        precondition(row >= 0 && row < rowCount, "row \(row) out of range 0..<\(rowCount)")
        precondition(column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
    }
}

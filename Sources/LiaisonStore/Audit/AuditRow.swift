/// A message row as read for sealing or verification: its leaf, or why it cannot be one.
public struct AuditRow: Sendable, Equatable {
    /// The row's fields; for a malformed row, what could be read of them.
    public var leaf: AuditLeaf
    /// `false` when `headers` is not a JSON object of strings. liaisond never writes such a row,
    /// so one is a sign of tampering: it is never sealed, and verification reports it.
    public var wellFormed: Bool

    /// Creates a row.
    public init(leaf: AuditLeaf, wellFormed: Bool) {
        self.leaf = leaf
        self.wellFormed = wellFormed
    }
}

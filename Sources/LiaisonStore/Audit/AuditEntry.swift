/// One entry of an audited log as verification sees it: its key (a message's seq, an event's
/// id), the leaf hash recomputed from its row, and whether the row could be encoded at all.
public struct AuditEntry: Sendable, Equatable {
    /// The seq or event id.
    public var seq: Int64
    /// The leaf hash of the row as it is now.
    public var hash: MerkleHash
    /// `false` for a row liaisond never writes (a message whose headers are not a JSON object of strings).
    public var wellFormed: Bool

    /// Creates an entry.
    public init(seq: Int64, hash: MerkleHash, wellFormed: Bool = true) {
        self.seq = seq
        self.hash = hash
        self.wellFormed = wellFormed
    }
}

/// Which append-only log a Merkle tree seals (docs/AUDIT.md): the message log, or the security
/// events. Each has its own tree, leaves and checkpoints, signed with the same key; the
/// checkpoint text names the log, so a checkpoint of one can never pass for the other.
public enum AuditedLog: String, Sendable, Equatable, CaseIterable {
    /// `messages`, keyed by seq (migration 0007).
    case messages
    /// `security_events`, keyed by id (migration 0010): the table's `seq` columns hold the event id.
    case securityEvents

    /// The table of sealed leaves.
    var leavesTable: String {
        switch self {
        case .messages: "audit_leaves"
        case .securityEvents: "audit_event_leaves"
        }
    }

    /// The table of signed checkpoints.
    var checkpointsTable: String {
        switch self {
        case .messages: "audit_checkpoints"
        case .securityEvents: "audit_event_checkpoints"
        }
    }

    /// The first line of a checkpoint's signed text.
    public var checkpointHeader: String {
        switch self {
        case .messages: "liaison audit checkpoint v1"
        case .securityEvents: "liaison audit event checkpoint v1"
        }
    }

    /// The signed line naming the last entry: `last-seq` or `last-id`.
    public var lastLabel: String {
        switch self {
        case .messages: "last-seq"
        case .securityEvents: "last-id"
        }
    }

    /// What an entry is called in verification messages: `seq 42`, `event 42`.
    public var noun: String {
        switch self {
        case .messages: "seq"
        case .securityEvents: "event"
        }
    }
}

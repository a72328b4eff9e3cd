/// The `prio` header: how urgently a message should reach its readers.
///
/// The names follow military message precedence, highest first. A message without `prio` is
/// ``routine``.
public enum Priority: String, Sendable, CaseIterable {
    /// Immediate danger: early warning of violence against a group.
    case flash
    /// Needs attention within hours.
    case urgent
    /// Everything else; the default.
    case routine
}

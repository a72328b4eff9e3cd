/// What an account stands for in the network.
public enum AccountKind: String, Sendable, CaseIterable {
    /// A UN entity (an agency, department or office at headquarters) that posts updates.
    case entity
    /// A field office that mostly subscribes, often over a slow link.
    case office
}

/// The `class` header: how sensitive a message is, checked against each reader's clearance.
///
/// Cases are ordered from least to most sensitive (`public < internal < confidential <
/// strictly-confidential`), so a reader may receive a message when
/// `message.classification <= reader.clearance`. A message without `class` is ``internal``.
/// The two upper levels take their names from the UN Secretariat's information sensitivity
/// classification (ST/SGB/2007/6), whose lowest level, "unclassified", is split here into
/// public and internal.
public enum Classification: String, Sendable, Comparable, CaseIterable {
    /// May be shown to anyone.
    case `public`
    /// For the network's members; the default.
    case `internal`
    /// For named entities and offices only.
    case confidential
    /// For the fewest readers; written `strictly-confidential` on the wire.
    case strictlyConfidential = "strictly-confidential"

    /// Orders by sensitivity, the order of `allCases`.
    public static func < (lhs: Classification, rhs: Classification) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .public: 0
        case .internal: 1
        case .confidential: 2
        case .strictlyConfidential: 3
        }
    }
}

import LiaisonStore
import Testing

/// The canonical encoding of a security event: every column counts, NULL differs from '', and no
/// event encodes like a message leaf.
struct SecurityEventLeafTests {
    static let base = SecurityEventLeaf(
        id: 7,
        atMicroseconds: 1_764_600_000_123_456,
        kind: "retention.set",
        account: nil,
        remote: "liaisonctl",
        reason: "retention field.>: none -> 400 days",
        actor: "alice"
    )

    @Test func everyColumnChangesTheHash() {
        var variants: [SecurityEventLeaf] = []
        for change in 0..<8 {
            var leaf = Self.base
            switch change {
            case 0: leaf.id = 8
            case 1: leaf.atMicroseconds += 1
            case 2: leaf.kind = "retention.hold"
            case 3: leaf.account = ""
            case 4: leaf.remote = nil
            case 5: leaf.reason += "."
            case 6: leaf.actor = nil
            default: leaf.actor = ""
            }
            variants.append(leaf)
        }
        let hashes = Set(([Self.base] + variants).map(\.hash))
        #expect(hashes.count == 9)
    }

    @Test func anEventNeverEncodesLikeAMessage() {
        #expect(Self.base.encoding.first == 0x45)
        #expect(AuditLeaf(encoding: Self.base.encoding) == nil)
    }
}

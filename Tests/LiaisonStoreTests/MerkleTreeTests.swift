import Foundation
import LiaisonStore
import Testing

/// The Merkle tree of docs/AUDIT.md against RFC 9162 / RFC 6962, without a database.
struct MerkleTreeTests {
    /// The reference leaf inputs and roots of certificate-transparency's merkle_tree_test.cc
    /// (RFC 6962 test vectors, also used by Trillian and the CT Go and Rust libraries).
    static let referenceInputs = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ]
    static let referenceRoots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func emptyTreeIsTheHashOfNothing() {
        #expect(MerkleHash.emptyTree.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(CompactRange().root == .emptyTree)
        #expect(MerkleTree.root(of: []) == .emptyTree)
    }

    @Test func referenceVectorsBothWays() throws {
        let leaves = try Self.referenceInputs.map { MerkleHash.leaf(try #require(Hex.decode($0))) }
        var range = CompactRange()
        for (count, expected) in Self.referenceRoots.enumerated() {
            range.append(leaves[count])
            #expect(range.root.hex == expected, "incremental, size \(count + 1)")
            #expect(MerkleTree.root(of: leaves[..<(count + 1)]).hex == expected, "recursive, size \(count + 1)")
        }
    }

    @Test func compactRangeEqualsTheRecursiveDefinitionUpTo100() throws {
        let leaves = (0..<100).map { MerkleHash.leaf(Array("leaf \($0)".utf8)) }
        var range = CompactRange()
        for size in 1...100 {
            range.append(leaves[size - 1])
            #expect(range.root == MerkleTree.root(of: leaves[..<size]), "size \(size)")
            #expect(range.nodes.count == size.nonzeroBitCount)
            let restored = try #require(CompactRange(size: Int64(size), serialized: range.serialized))
            #expect(restored == range)
        }
        #expect(CompactRange(size: 3, serialized: Array(repeating: 0, count: 32)) == nil, "3 needs two nodes")
    }

    @Test func splitPointIsTheLargestPowerOfTwoBelow() {
        // RFC 9162 2.1.1: k < n ≤ 2k. For n = 5 the left subtree holds 4 leaves, the right 1.
        let leaves = (0..<5).map { MerkleHash.leaf([UInt8($0)]) }
        let left = MerkleTree.root(of: leaves[..<4])
        #expect(MerkleTree.root(of: leaves[...]) == .node(left, leaves[4]))
    }

    @Test func leafEncodingIsTheDocumentedLayout() throws {
        let leaf = AuditLeaf(
            seq: 258,
            topic: "a.b",
            account: "hq",
            publishedMicroseconds: 1,
            headers: [(key: "z", value: "1"), (key: "id", value: "x")],
            payload: Array("hi".utf8)
        )
        var expected: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 1, 2]
        expected += [0, 0, 0, 3] + Array("a.b".utf8) + [0, 0, 0, 2] + Array("hq".utf8)
        expected += [0, 0, 0, 0, 0, 0, 0, 1]
        expected += [0, 0, 0, 2] + [0, 0, 0, 2] + Array("id".utf8) + [0, 0, 0, 1] + Array("x".utf8)
        expected += [0, 0, 0, 1] + Array("z".utf8) + [0, 0, 0, 1] + Array("1".utf8)
        expected += [0, 0, 0, 0, 0, 0, 0, 2]
        // SHA-256("hi")
        expected += try #require(Hex.decode("8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"))
        #expect(leaf.encoding == expected)
        #expect(leaf.hash == MerkleHash.leaf(expected))
    }

    @Test func everyFieldChangesTheLeaf() {
        let base = AuditLeaf(
            seq: 5,
            topic: "t.x",
            account: "a",
            publishedMicroseconds: 10,
            headers: [(key: "k", value: "v")],
            payload: [1, 2]
        )
        var variants = [base, base, base, base, base, base, base]
        variants[0].seq = 6
        variants[1].topic = "t.y"
        variants[2].account = "b"
        variants[3].publishedMicroseconds = 11
        variants[4].headers = [(key: "k", value: "w")]
        variants[5].headers = [(key: "k", value: "v"), (key: "l", value: "v")]
        variants[6] = AuditLeaf(
            seq: 5,
            topic: "t.x",
            account: "a",
            publishedMicroseconds: 10,
            headers: [(key: "k", value: "v")],
            payload: [1, 3]
        )
        let hashes = Set(variants.map(\.hash) + [base.hash])
        #expect(hashes.count == variants.count + 1)
        // Field boundaries are length-prefixed: moving bytes between topic and account changes the leaf.
        var shifted = base
        shifted.topic = "t.xa"
        shifted.account = ""
        #expect(shifted.hash != base.hash)
    }

    @Test func checkpointsSignVerifyAndRoundTrip() throws {
        let key = AuditSigningKey()
        let other = AuditSigningKey()
        let root = MerkleHash.leaf([1])
        let checkpoint = try Checkpoint.signed(treeSize: 7, lastSeq: 9, root: root, timeMicroseconds: 123, key: key)
        #expect(checkpoint.isSigned(byOneOf: [key.publicKey]))
        #expect(!checkpoint.isSigned(byOneOf: [other.publicKey]))
        #expect(try Checkpoint(parsing: checkpoint.noteText) == checkpoint)
        let json = try JSONSerialization.data(withJSONObject: checkpoint.jsonFields)
        #expect(try Checkpoint(parsing: String(decoding: json, as: UTF8.self)) == checkpoint)

        var forged = checkpoint
        forged.treeSize = 8
        #expect(!forged.isSigned(byOneOf: [key.publicKey]), "the size is signed")
        forged = checkpoint
        forged.signature[0] ^= 1
        #expect(!forged.isSigned(byOneOf: [key.publicKey]))
        #expect(try AuditPublicKey(text: key.publicKey.text + " " + key.publicKey.keyID) == key.publicKey)
    }

    @Test func keyFileIsCreatedOnceWithMode0600() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-key-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try AuditSigningKey.loadOrCreate(at: path)
        let second = try AuditSigningKey.loadOrCreate(at: path)
        #expect(first.created && !second.created)
        #expect(first.key.publicKey == second.key.publicKey)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o777 == 0o600)
        #expect(!AuditSigningKey.isExposed(path: path))
    }

    @Test func sealerStateSignsAtCountAndResumes() throws {
        let key = AuditSigningKey()
        let policy = CheckpointPolicy(messages: 4, seconds: 3600)
        var state = SealerState()
        #expect(state.pageLimit(policy: policy, pageSize: 100) == 4)
        let sealed = state.absorb((1...3).map { (seq: Int64($0 * 2), hash: MerkleHash.leaf([UInt8($0)])) })
        #expect(sealed.map(\.index) == [0, 1, 2])
        #expect(!state.checkpointDue(nowMicroseconds: 1, policy: policy), "3 of 4, and not an hour yet")
        #expect(
            state.checkpointDue(nowMicroseconds: 3_600_000_000, policy: policy),
            "an hour since the (absent) last one"
        )
        let stored = try state.checkpoint(nowMicroseconds: 1, key: key)
        state.didStore(stored.checkpoint)
        #expect(!state.checkpointDue(nowMicroseconds: 2, policy: policy))
        let more = state.absorb([(seq: 10, hash: .leaf([9]))])
        #expect(state.pageLimit(policy: policy, pageSize: 100) == 3)
        let resumed = try SealerState.resumed(from: stored, leaves: more)
        #expect(resumed == state)
        var bad = stored
        bad.checkpoint.root = .leaf([0])
        #expect(throws: StoreError.self) { try SealerState.resumed(from: bad, leaves: more) }
    }
}

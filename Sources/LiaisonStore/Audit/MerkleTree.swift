/// The Merkle Tree Hash of RFC 9162 section 2.1.1 (RFC 6962 section 2.1), computed two ways.
///
/// ``root(of:)`` is the recursive definition, word for word; ``CompactRange`` computes the same
/// root incrementally in O(log n) memory, which is what the sealer and `audit verify` use. Tests
/// check one against the other for every size from 1 to 100 and against the RFC 6962 reference
/// vectors of the certificate-transparency project.
public enum MerkleTree {
    /// `MTH(D[n])` over leaf hashes, by the RFC's recursion.
    ///
    /// - `MTH({}) = SHA-256()`;
    /// - `MTH({d0}) = SHA-256(0x00 || d0)` (here the leaf hash is given already);
    /// - for n > 1, with k the largest power of two smaller than n:
    ///   `MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`.
    ///
    /// Recursion depth is log₂ n; memory is the input. Meant for tests and small trees.
    ///
    /// - Parameter leaves: Leaf hashes (``MerkleHash/leaf(_:)``), in log order.
    /// - Returns: The root.
    public static func root(of leaves: ArraySlice<MerkleHash>) -> MerkleHash {
        switch leaves.count {
        case 0: return .emptyTree
        case 1: return leaves[leaves.startIndex]
        default:
            let split = Self.largestPowerOfTwo(below: leaves.count)
            let middle = leaves.startIndex + split
            return .node(Self.root(of: leaves[..<middle]), Self.root(of: leaves[middle...]))
        }
    }

    /// The largest power of two strictly below `n` (n ≥ 2): the RFC's split point k.
    static func largestPowerOfTwo(below n: Int) -> Int {
        precondition(n >= 2)
        return 1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }
}

/// A compact range `[0, size)`: the roots of the perfect subtrees that make up a tree of `size`
/// leaves, largest (leftmost) first, one per set bit of `size`.
///
/// Appending a leaf merges equal-sized subtrees from the right, as a binary counter carries;
/// the root folds the subtrees right to left, which yields exactly RFC 9162's `MTH` because the
/// RFC's split rule puts the largest power of two on the left at every level. This is the
/// "frontier" stored with each checkpoint (docs/AUDIT.md): enough to resume sealing, or to
/// start verifying at that checkpoint, without the leaves before it.
public struct CompactRange: Sendable, Equatable {
    /// Leaves in the range.
    public private(set) var size: Int64
    /// Subtree roots, leftmost (largest) first; `nodes.count == size.nonzeroBitCount`.
    public private(set) var nodes: [MerkleHash]

    /// The empty range.
    public init() {
        self.size = 0
        self.nodes = []
    }

    /// Restores a range from its size and subtree roots.
    ///
    /// - Returns: `nil` when the number of nodes does not match the set bits of `size`.
    public init?(size: Int64, nodes: [MerkleHash]) {
        guard size >= 0, nodes.count == size.nonzeroBitCount else { return nil }
        self.size = size
        self.nodes = nodes
    }

    /// Appends one leaf hash at index `size`.
    public mutating func append(_ leaf: MerkleHash) {
        var carried = leaf
        var bits = self.size
        // Each trailing one bit is a subtree of the new leaf's size: merge it in (left || right).
        while bits & 1 == 1 {
            carried = .node(self.nodes.removeLast(), carried)
            bits >>= 1
        }
        self.nodes.append(carried)
        self.size += 1
    }

    /// The tree's root, `MTH` of all leaves so far (``MerkleHash/emptyTree`` when empty).
    public var root: MerkleHash {
        guard var folded = self.nodes.last else { return .emptyTree }
        for node in self.nodes.dropLast().reversed() {
            folded = .node(node, folded)
        }
        return folded
    }

    /// The subtree roots as one byte string, 32 bytes each, leftmost first (the `frontier` column).
    public var serialized: [UInt8] {
        self.nodes.flatMap(\.bytes)
    }

    /// Restores a range from ``serialized`` bytes.
    ///
    /// - Returns: `nil` when the length is not 32 × the set bits of `size`.
    public init?(size: Int64, serialized: [UInt8]) {
        guard serialized.count % 32 == 0 else { return nil }
        var nodes: [MerkleHash] = []
        var offset = 0
        while offset < serialized.count {
            guard let node = MerkleHash(bytes: Array(serialized[offset..<offset + 32])) else { return nil }
            nodes.append(node)
            offset += 32
        }
        self.init(size: size, nodes: nodes)
    }
}

import LiaisonStore
import Testing

/// ``AuditVerifier`` fed by hand: every kind of mismatch, without a database.
struct AuditVerifierTests {
    static let key = AuditSigningKey()

    static func row(_ seq: Int64, payload: String = "p") -> AuditRow {
        AuditRow(
            leaf: AuditLeaf(
                seq: seq,
                topic: "t.a",
                account: "a",
                publishedMicroseconds: seq,
                headers: [],
                payload: Array(payload.utf8)
            ),
            wellFormed: true
        )
    }

    /// Rows 1…6 sealed, a checkpoint at 3 and at 6.
    static func sealed() throws -> (rows: [AuditRow], leaves: [SealedLeaf], checkpoints: [Checkpoint]) {
        let rows = (1...6).map { row(Int64($0)) }
        var state = SealerState()
        var checkpoints: [Checkpoint] = []
        var leaves: [SealedLeaf] = []
        for chunk in [rows[0..<3], rows[3..<6]] {
            leaves += state.absorb(chunk.map { (seq: $0.leaf.seq, hash: $0.leaf.hash) })
            checkpoints.append(try state.checkpoint(nowMicroseconds: 0, key: key).checkpoint)
        }
        return (rows, leaves, checkpoints)
    }

    static func verify(rows: [AuditRow?], leaves: [SealedLeaf?], checkpoints: [Checkpoint]) throws(AuditMismatch) {
        var verifier = try AuditVerifier(start: nil, checkpoints: checkpoints, keys: [key.publicKey], lastSealedSeq: 6)
        for (row, leaf) in zip(rows, leaves) { try verifier.feed(row: row, leaf: leaf) }
        try verifier.finish()
    }

    @Test func anUntouchedLogVerifies() throws {
        let log = try Self.sealed()
        try Self.verify(rows: log.rows, leaves: log.leaves, checkpoints: log.checkpoints)
    }

    @Test func aChangedRowIsNamed() throws {
        let log = try Self.sealed()
        var rows = log.rows
        rows[4] = Self.row(5, payload: "q")
        let error = #expect(throws: AuditMismatch.self) {
            try Self.verify(rows: rows, leaves: log.leaves, checkpoints: log.checkpoints)
        }
        #expect(error?.kind == .rowChanged && error?.seq == 5)
    }

    @Test func aRowChangedWithItsLeafIsCaughtByTheRoot() throws {
        let log = try Self.sealed()
        var rows = log.rows
        var leaves = log.leaves
        rows[4] = Self.row(5, payload: "q")
        leaves[4].hash = rows[4].leaf.hash
        let error = #expect(throws: AuditMismatch.self) {
            try Self.verify(rows: rows, leaves: leaves, checkpoints: log.checkpoints)
        }
        #expect(error?.kind == .rootMismatch && error?.seq == 4, "\(String(describing: error))")
    }

    @Test func aForgedCheckpointIsRefused() throws {
        let log = try Self.sealed()
        var checkpoints = log.checkpoints
        checkpoints[1].signature[10] ^= 0x40
        let error = #expect(throws: AuditMismatch.self) {
            try Self.verify(rows: log.rows, leaves: log.leaves, checkpoints: checkpoints)
        }
        #expect(error?.kind == .badSignature)
    }

    @Test func deletedAtTheEndIsCaughtByTheLastCheckpoint() throws {
        let log = try Self.sealed()
        let error = #expect(throws: AuditMismatch.self) {
            try Self.verify(
                rows: Array(log.rows.prefix(5)),
                leaves: Array(log.leaves.prefix(5)),
                checkpoints: log.checkpoints
            )
        }
        #expect(error?.kind == .rowDeleted && error?.seq == 4)
    }
}

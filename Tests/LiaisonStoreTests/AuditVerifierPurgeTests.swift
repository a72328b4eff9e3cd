import LiaisonStore
import Testing

/// ``AuditVerifier`` over a log with messages purged by retention: the stored leaf hash enters
/// the tree for a purged seq with a valid purge record; a row deleted without one is still named.
struct AuditVerifierPurgeTests {
    static let day = RetentionPolicy.microsecondsPerDay

    /// Rows 1…6 (published at day 0) sealed, checkpoints at 3 and 6; seq 2 and 5 purged at day 500
    /// under `t.>` for 400 days.
    static func purgedLog() throws -> (rows: [AuditRow?], leaves: [SealedLeaf], checkpoints: [Checkpoint]) {
        let log = try AuditVerifierTests.sealed()
        var rows: [AuditRow?] = log.rows
        var leaves = log.leaves
        for index in [1, 4] {
            let row = try #require(rows[index])
            rows[index] = nil
            leaves[index].purge = PurgeRecord(
                purgeID: 1,
                purgedAtMicroseconds: 500 * Self.day,
                pattern: "t.>",
                keepDays: 400,
                encoding: row.leaf.encoding
            )
        }
        return (rows, leaves, log.checkpoints)
    }

    static func verify(
        rows: [AuditRow?],
        leaves: [SealedLeaf],
        checkpoints: [Checkpoint],
        holds: [RetentionHold] = []
    ) throws(AuditMismatch) -> AuditVerifier {
        var verifier = try AuditVerifier(
            start: nil,
            checkpoints: checkpoints,
            keys: [AuditVerifierTests.key.publicKey],
            lastSealedSeq: 6
        )
        verifier.holds = holds
        for (row, leaf) in zip(rows, leaves) { try verifier.feed(row: row, leaf: leaf) }
        try verifier.finish()
        return verifier
    }

    @Test func purgedMessagesWithValidRecordsVerify() throws {
        let log = try Self.purgedLog()
        let verifier = try Self.verify(rows: log.rows, leaves: log.leaves, checkpoints: log.checkpoints)
        #expect(verifier.sealedRows == 6 && verifier.purgedRows == 2)
        #expect(verifier.checkedCheckpoints.count == 2)
    }

    @Test func aDeleteWithoutAPurgeRecordIsStillNamed() throws {
        let log = try Self.purgedLog()
        var rows = log.rows
        rows[2] = nil
        let error = #expect(throws: AuditMismatch.self) {
            _ = try Self.verify(rows: rows, leaves: log.leaves, checkpoints: log.checkpoints)
        }
        #expect(error?.kind == .rowDeleted && error?.seq == 3, "\(String(describing: error))")
    }

    @Test func aPurgeTooEarlyOrUnderAHoldIsNamed() throws {
        let log = try Self.purgedLog()
        var early = log.leaves
        early[4].purge?.purgedAtMicroseconds = 100 * Self.day
        let tooEarly = #expect(throws: AuditMismatch.self) {
            _ = try Self.verify(rows: log.rows, leaves: early, checkpoints: log.checkpoints)
        }
        #expect(tooEarly?.kind == .purgeInvalid && tooEarly?.seq == 5, "\(String(describing: tooEarly))")

        let hold = RetentionHold(id: 9, pattern: nil, seqs: 2...2, reason: "case", placedAtMicroseconds: 0)
        let held = #expect(throws: AuditMismatch.self) {
            _ = try Self.verify(rows: log.rows, leaves: log.leaves, checkpoints: log.checkpoints, holds: [hold])
        }
        #expect(held?.kind == .purgeInvalid && held?.seq == 2 && held?.message.contains("hold 9") == true)
    }

    @Test func aForgedPurgeRecordIsCaught() throws {
        let log = try Self.purgedLog()
        // A "purge" of a row that was changed first: its encoding no longer hashes to the leaf.
        var forged = log.leaves
        forged[1].purge?.encoding = AuditVerifierTests.row(2, payload: "other").leaf.encoding
        let error = #expect(throws: AuditMismatch.self) {
            _ = try Self.verify(rows: log.rows, leaves: forged, checkpoints: log.checkpoints)
        }
        #expect(error?.kind == .purgeInvalid && error?.seq == 2)
        // Leaf hash and encoding replaced together: the checkpoint's signed root catches it.
        forged[1].hash = MerkleHash.leaf(forged[1].purge!.encoding)
        let root = #expect(throws: AuditMismatch.self) {
            _ = try Self.verify(rows: log.rows, leaves: forged, checkpoints: log.checkpoints)
        }
        #expect(root?.kind == .rootMismatch)
    }
}

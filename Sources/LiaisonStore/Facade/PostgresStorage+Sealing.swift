extension PostgresStorage: LogSealing {
    public func claimSealing() async throws -> Bool {
        try await self.onSealer("claim sealing") { connection in try AuditLog().claimSealLock(on: connection) }
    }

    public func resumeSealing(_ audited: AuditedLog) async throws -> SealerState {
        try await self.onSealer("resume sealing") { connection in
            let log = AuditLog(audited)
            let stored = try log.latestCheckpoint(on: connection)
            // The leaves after the newest checkpoint: at most the policy's count, or what was
            // sealed in one checkpoint interval.
            var leaves: [SealedLeaf] = []
            var next = stored?.checkpoint.treeSize ?? 0
            while true {
                let page = try log.leaves(fromIndex: next, limit: 10_000, on: connection)
                leaves += page
                guard page.count == 10_000, let last = page.last else { break }
                next = last.index + 1
            }
            return try SealerState.resumed(from: stored, leaves: leaves, log: audited)
        }
    }

    public func leavesToSeal(after seq: Int64, limit: Int) async throws -> [(seq: Int64, hash: MerkleHash)] {
        try await self.onSealer("read rows to seal") { connection in
            let rows = try AuditLog().rows(after: seq, limit: limit, on: connection)
            var leaves: [SealedHash] = []
            leaves.reserveCapacity(rows.count)
            for row in rows {
                guard row.wellFormed else {
                    throw StoreError(
                        .invalid,
                        "seq \(row.leaf.seq): headers are not a JSON object of strings (not written by liaisond); not sealed"
                    )
                }
                leaves.append(SealedHash(seq: row.leaf.seq, hash: row.leaf.hash))
            }
            return leaves
        }.map { (seq: $0.seq, hash: $0.hash) }
    }

    public func eventLeavesToSeal(after id: Int64, limit: Int) async throws -> [(seq: Int64, hash: MerkleHash)] {
        try await self.onSealer("read events to seal") { connection in
            try AuditLog(.securityEvents).eventEntries(after: id, limit: limit, on: connection).map {
                SealedHash(seq: $0.seq, hash: $0.hash)
            }
        }.map { (seq: $0.seq, hash: $0.hash) }
    }

    public func storeSeal(_ seal: SealAppend, log: AuditedLog) async throws {
        try await self.onSealer("store seal") { connection in try AuditLog(log).store(seal, on: connection) }
    }
}

/// A seq and its leaf hash, as one `Sendable` value for crossing threads.
private struct SealedHash: Sendable {
    var seq: Int64
    var hash: MerkleHash
}

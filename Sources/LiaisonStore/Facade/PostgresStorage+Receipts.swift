extension PostgresStorage {
    public func recordReceipts(_ ranges: [ReceiptRange]) async throws {
        // On the read pool, like security events: never on the writer's thread (the publish path).
        try await self.read("record receipts") { connection in try Receipts().record(ranges, on: connection) }
    }

    public func receipts(seq: Int64) async throws -> ReceiptReport? {
        try await self.read("receipts") { connection in try Receipts().report(seq: seq, on: connection) }
    }
}

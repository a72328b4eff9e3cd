import LiaisonClient

extension LiaisonClient {
    /// Publishes `count` messages pipelined to `topic`, payloads `m0`, `m1`, ... padded with `a`
    /// to at least `bytes` bytes, and returns their seqs in order.
    ///
    /// - Throws: The first refusal (`ERR ...`) or a lost connection.
    func publishNumbered(
        _ count: Int,
        topic: String = "field.mm.sittwe.report",
        bytes: Int = 0,
        prio: String? = nil
    ) async throws -> [Int64] {
        let headers: [(String, String)] = prio.map { [("prio", $0)] } ?? []
        let results = try await self.publishPipelined(
            (0..<count).map { index in
                let label = Array("m\(index)".utf8)
                let payload = label + [UInt8](repeating: 0x61, count: max(0, bytes - label.count))
                return (topic: topic, payload: payload, headers: headers)
            }
        )
        return try results.map { try $0.get().seq }
    }
}

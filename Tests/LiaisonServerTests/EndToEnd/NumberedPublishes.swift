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

/// Subscribes a durable, retrying `ERR 409` for up to 20 s: a closing connection frees its
/// durable only after it recorded its progress, which on a loaded machine takes a while.
///
/// - Throws: The last `ERR 409` after 20 s, or any other refusal at once.
func subscribeRetryingWhileBusy(
    _ client: LiaisonClient,
    sid: String = "s",
    pattern: String = "field.mm.>",
    options: [(String, String)]
) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while true {
        do {
            return try await client.subscribe(sid: sid, pattern: pattern, options: options)
        } catch let error as ServerError where error.code == 409 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

import Foundation
import LiaisonCore
import LiaisonStore

/// How `consumer list` and `consumer show` print a consumer, so that both agree.
extension ConsumerInfo {
    /// The JSON object for `--json`: snake_case keys, times in RFC 3339 UTC or `null`.
    ///
    /// - Parameter pending: The consumer's pending count (messages above its ack floor).
    func jsonObject(pending: Int64) -> [String: Any] {
        [
            "account": self.account, "name": self.name, "pattern": self.settings.pattern.value,
            "ack_mode": self.settings.ackMode.rawValue, "ack_wait_ms": self.settings.ackWaitMilliseconds,
            "max_deliver": self.settings.maxDeliver, "max_inflight": self.settings.maxInflight,
            "ack_floor": self.ackFloor, "delivered_seq": self.deliveredSeq, "pending": pending,
            "last_ack_at": Self.json(self.lastAckAt), "last_delivery_at": Self.json(self.lastDeliveryAt),
            "created_at": RFC3339.format(self.createdAt),
        ]
    }

    /// A time for a table cell: RFC 3339 UTC, or `-` for never.
    static func cell(_ date: Date?) -> String {
        date.map(RFC3339.format) ?? "-"
    }

    private static func json(_ date: Date?) -> Any {
        date.map { RFC3339.format($0) as Any } ?? NSNull()
    }
}

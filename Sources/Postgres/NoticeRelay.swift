internal import CLibPQ

/// Carries a connection's notice handler to libpq's C notice receiver, which cannot capture context.
///
/// Owned by its ``Connection``, which outlives every callback (`PQfinish` runs before the relay is freed).
final class NoticeRelay {
    /// Where notices go; `nil` drops them.
    var handler: (@Sendable (String) -> Void)?

    /// Installs the relay as `connection`'s notice receiver (`PQsetNoticeReceiver`), replacing
    /// libpq's default receiver, which prints to stderr.
    func install(on connection: OpaquePointer) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = PQsetNoticeReceiver(connection, noticeReceiver, context)
    }
}

/// libpq's notice callback: formats `SEVERITY: message` and hands it to the relay's handler.
private func noticeReceiver(_ context: UnsafeMutableRawPointer?, _ result: OpaquePointer?) {
    guard let context, let result else {
        return
    }
    let relay = Unmanaged<NoticeRelay>.fromOpaque(context).takeUnretainedValue()
    guard let handler = relay.handler else {
        return
    }
    let severity = PQresultErrorField(result, CLIBPQ_DIAG_SEVERITY).map { String(cString: $0) } ?? "NOTICE"
    let message =
        PQresultErrorField(result, CLIBPQ_DIAG_MESSAGE_PRIMARY).map { String(cString: $0) }
        ?? PostgresError.trimmed(PQresultErrorMessage(result)) ?? ""
    handler("\(severity): \(message)")
}

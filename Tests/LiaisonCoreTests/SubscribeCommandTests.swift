import Foundation
import LiaisonCore
import Testing

@Suite struct SubscribeCommandTests {
    private func subscribe(_ line: String) throws -> SubscribeRequest {
        let command = try ClientCommand.parse(line[...])
        guard case .subscribe(let request) = command else {
            Issue.record("expected SUB, got \(command)")
            throw ProtocolError(.internal, "not a SUB")
        }
        return request
    }

    @Test func defaults() throws {
        let request = try self.subscribe("SUB s1 hq.>")
        #expect(request == SubscribeRequest(sid: "s1", pattern: try TopicPattern("hq.>")))
        #expect(request.start == .new)
        #expect(request.durable == nil)
        #expect(request.ack == .auto)
        #expect(request.extra.isEmpty)
    }

    @Test(arguments: [
        ("from=new", StartPosition.new),
        ("from=all", .all),
        ("from=0", .all),
        ("from=1", .seq(1)),
        ("from=000042", .seq(42)),
        ("from=9223372036854775807", .seq(Int64.max)),
        ("from=2026-11-29T10:00:00Z", .time(Date(timeIntervalSince1970: 1_795_946_400))),
        ("from=2026-11-29T12:00:00.5+02:00", .time(Date(timeIntervalSince1970: 1_795_946_400.5))),
    ])
    func startPositions(option: String, start: StartPosition) throws {
        #expect(try self.subscribe("sub s1 field.*.*.early-warning \(option)").start == start)
    }

    @Test func allOptionsInAnyOrder() throws {
        let request = try self.subscribe("SUB  mm-ew  field.mm.>  ack=explicit  x-filter=ew  durable=sittwe  from=7")
        #expect(request.sid == "mm-ew")
        #expect(request.pattern.value == "field.mm.>")
        #expect(request.start == .seq(7))
        #expect(request.durable == "sittwe")
        #expect(request.ack == .explicit)
        #expect(request.extra.wireText == "x-filter=ew")
    }

    @Test(arguments: [
        ("SUB", "usage: SUB"),
        ("SUB s1", "usage: SUB"),
        ("SUB s.1 hq", "sid \"s.1\" must match"),
        ("SUB s1 hq.>.x", "before its last token"),
        ("SUB s1 hq*", "must be whole tokens"),
        ("SUB s1 hq extra", "expected key=value, got \"extra\""),
        ("SUB s1 hq from=", "must be 1-1024 bytes"),
        ("SUB s1 hq from=-1", "must be new, all, a seq or an RFC 3339 time"),
        ("SUB s1 hq from=NEW", "must be new, all"),
        ("SUB s1 hq from=yesterday", "must be new, all"),
        ("SUB s1 hq from=2026-02-30T00:00:00Z", "must be new, all"),
        ("SUB s1 hq from=99999999999999999999", "is not a seq"),
        ("SUB s1 hq from=9223372036854775808", "is not a seq"),
        ("SUB s1 hq from=1 from=2", "duplicate key \"from\""),
        ("SUB s1 hq durable=a.b", "durable \"a.b\" must match"),
        ("SUB s1 hq ack=manual", "ack must be auto or explicit"),
        ("SUB s1 hq ack=auto ack=auto", "duplicate key"),
        ("SUB s1 hq\tfrom=all", "tab in line"),
    ])
    func rejects(line: String, reason: String) {
        let error = #expect(throws: ProtocolError.self) { try ClientCommand.parse(line[...]) }
        #expect(error?.code == .badRequest)
        #expect(error?.closesConnection == false)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }
}

import Foundation
import TestSupport
import Testing

/// A scripted `nc` session: the client sends its commands and shuts its write side down at the
/// end of its input (`nc -q`), then reads. Every command before end of input is answered.
@Suite struct HalfCloseTests {
    @Test func everyCommandBeforeEndOfInputIsAnsweredThenTheConnectionCloses() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let socket = try RawSocket(port: daemon.port)
            let token = daemon.tokens["unhcr"]!
            try socket.send("AUTH unhcr \(token)\nPUB field.mm.sittwe.report 9\nall quiet\nPING\n")
            socket.shutdownWrite()
            let lines = try await socket.readUntilClosed(timeout: .seconds(90)).split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "\(lines)")
            #expect(lines.dropFirst().first == "OK AUTH unhcr")
            #expect(lines.dropFirst(2).first?.hasPrefix("OK PUB ") == true)
            #expect(lines.last == "PONG")
        }
    }

    @Test func quitAfterEndOfInputIsAnsweredWithBye() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let socket = try RawSocket(port: daemon.port)
            try socket.send("AUTH ohchr \(daemon.tokens["ohchr"]!)\nPING\nQUIT\n")
            socket.shutdownWrite()
            let lines = try await socket.readUntilClosed(timeout: .seconds(90)).split(separator: "\n").map(String.init)
            #expect(Array(lines.dropFirst()) == ["OK AUTH ohchr", "PONG", "OK BYE"])
        }
    }
}

import ArgumentParser
import Foundation
import LiaisonClient

/// `liaisonctl pub`.
struct Pub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish one message and print its seq once it has committed.",
        discussion: """
            The payload is <text>, else the contents of --file, else standard input. \
            Prints `seq <n>`, followed by ` duplicate` when an `id` header repeated a recent publish.
            """
    )

    @OptionGroup var server: ServerOptions

    @Argument(help: "The topic, e.g. hq.ohchr.guidance-note.")
    var topic: String

    @Argument(help: "The payload as text (default: --file or standard input).")
    var text: String?

    @Option(help: ArgumentHelp("Read the payload from this file (binary-safe).", valueName: "path"))
    var file: String?

    @Option(
        name: .customLong("header"),
        help: ArgumentHelp("A header key=value, e.g. id=gn-19 or prio=urgent; repeatable.", valueName: "k=v")
    )
    var headers: [String] = []

    func validate() throws {
        if self.text != nil, self.file != nil {
            throw ValidationError("pass the payload as <text> or --file, not both")
        }
        _ = try self.parsedHeaders()
    }

    private func parsedHeaders() throws -> [(String, String)] {
        try self.headers.map { header in
            guard let equals = header.firstIndex(of: "="), equals != header.startIndex else {
                throw ValidationError("--header must be key=value, got '\(header)'")
            }
            return (String(header[..<equals]), String(header[header.index(after: equals)...]))
        }
    }

    private func payload() throws -> [UInt8] {
        if let text = self.text {
            return Array(text.utf8)
        }
        if let file = self.file {
            return Array(try FileContents.read(file, what: "the payload file"))
        }
        return Array(FileHandle.standardInput.readDataToEndOfFile())
    }

    func run() async throws {
        let payload = try self.payload()
        let client = try await self.server.connect()
        let ack: PublishAck
        do {
            ack = try await client.publish(topic: self.topic, payload: payload, headers: try self.parsedHeaders())
        } catch {
            await client.close()
            throw error
        }
        print(ack.duplicate ? "seq \(ack.seq) duplicate" : "seq \(ack.seq)")
        try? await client.quit()
    }
}

/// The first line the server sends on connect: `LIAISON 1 node=<name> max_payload=<bytes> [k=v …]`.
public struct Greeting: Sendable, Equatable {
    /// The protocol version after `LIAISON`; 1 for protocol v1.
    public var version: Int
    /// The daemon's node name (`node=`).
    public var node: String
    /// The largest payload a `PUB` may declare, in bytes (`max_payload=`).
    public var maxPayload: Int
    /// Every `key=value` field of the greeting, `node` and `max_payload` included.
    public var fields: [String: String]

    /// Creates a greeting.
    ///
    /// - Parameters:
    ///   - version: The protocol version.
    ///   - node: The node name.
    ///   - maxPayload: The largest payload in bytes.
    ///   - fields: All `key=value` fields.
    public init(version: Int = 1, node: String, maxPayload: Int, fields: [String: String]) {
        self.version = version
        self.node = node
        self.maxPayload = maxPayload
        self.fields = fields
    }

    /// Parses a greeting line.
    ///
    /// - Parameter line: The line without its line ending.
    /// - Throws: ``ClientError`` with code ``ClientError/Code/badGreeting`` when the line does not
    ///   start with `LIAISON <version>`, or lacks a `node` or a numeric `max_payload` field.
    public init(line: String) throws(ClientError) {
        let tokens = line.split(separator: " ")
        guard tokens.count >= 2, tokens[0] == "LIAISON", let version = Int(tokens[1]) else {
            throw ClientError(.badGreeting, "expected LIAISON <version> ..., got \(ClientError.quoted(line))")
        }
        var fields: [String: String] = [:]
        for token in tokens.dropFirst(2) {
            guard let equals = token.firstIndex(of: "=") else {
                continue
            }
            fields[String(token[..<equals])] = String(token[token.index(after: equals)...])
        }
        guard let node = fields["node"], let maxPayload = fields["max_payload"].flatMap({ Int($0) }) else {
            throw ClientError(.badGreeting, "greeting lacks node= or max_payload=: \(ClientError.quoted(line))")
        }
        self.init(version: version, node: node, maxPayload: maxPayload, fields: fields)
    }
}

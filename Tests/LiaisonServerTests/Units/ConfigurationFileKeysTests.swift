import Foundation
import TestSupport
import Testing

@testable import LiaisonServer

/// The check that refuses a configuration file key the daemon does not read, with its line; and
/// that every configuration file and example the repository holds passes it.
@Suite struct ConfigurationFileKeysTests {
    @Test func aMisspeltKeyIsNamedWithItsLineAndTheKeyItResembles() throws {
        let text = """
            {
              "listen": "127.0.0.1:7420",
              "limits": {
                "maxPayload": 1024,
                "maxConection": 5
              }
            }
            """
        let unknown = try #require(ConfigurationFileKeys.firstUnknown(inJSON: text))
        #expect(unknown.key == "limits.maxConection")
        #expect(unknown.line == 5)
        #expect(unknown.suggestion == "limits.maxConnections")
        #expect(!unknown.isObjectForValue)
    }

    @Test func anUnknownSectionIsReportedOnceAndAWildNameHasNoSuggestion() throws {
        let text = #"{"log": {"level": "info"}, "clustering": {"peers": ["a", "b"], "port": 1}}"#
        let unknown = try #require(ConfigurationFileKeys.firstUnknown(inJSON: text))
        #expect(unknown.key == "clustering")
        #expect(unknown.line == 1)
        #expect(unknown.suggestion == nil)
    }

    @Test func dottedKeysAndNestedKeysAreTheSameKeys() {
        let text = #"{"limits.maxPayload": 1, "database": {"url": "x", "readPoolSize": 2}, "tls.listen": ":1"}"#
        #expect(ConfigurationFileKeys.firstUnknown(inJSON: text) == nil)
        #expect(ConfigurationFileKeys.firstUnknown(inJSON: #"{"limits.maxPayloads": 1}"#)?.key == "limits.maxPayloads")
    }

    /// A key is the key the parser reads: `\u006cimits` is `limits`, and an unknown escaped key
    /// is named as decoded.
    @Test func escapedKeysAreDecodedAsTheParserDecodesThem() throws {
        #expect(ConfigurationFileKeys.firstUnknown(inJSON: #"{"\u006cimits": {"maxPayload": 1024}}"#) == nil)
        let unknown = try #require(ConfigurationFileKeys.firstUnknown(inJSON: #"{"limits": {"max\u0050ayloads": 1}}"#))
        #expect(unknown.key == "limits.maxPayloads")
    }

    @Test func aKnownKeyHoldingAnObjectIsRefused() throws {
        let unknown = try #require(ConfigurationFileKeys.firstUnknown(inJSON: "{\n\"listen\": {\"host\": \"a\"}}"))
        #expect(unknown.key == "listen")
        #expect(unknown.line == 2)
        #expect(unknown.isObjectForValue)
    }

    @Test func stringsThatLookLikeKeysAndEscapesDoNotConfuseTheLines() throws {
        let text = """
            {"node": {"name": "a \\" , \\"b\\": {"},
             "audit": {"signingKeyFile": "/k,{\\"x\\":1}"},
             "retention": {"enabeld": true}}
            """
        let unknown = try #require(ConfigurationFileKeys.firstUnknown(inJSON: text))
        #expect(unknown.key == "retention.enabeld")
        #expect(unknown.line == 3)
        #expect(unknown.suggestion == "retention.enabled")
    }

    /// The table of docs/CONFIGURATION.md and the keys the check knows are one list.
    @Test func theKnownKeysAreTheDocumentedOnes() throws {
        let docs = try String(
            contentsOf: TestDatabase.packageRoot.appendingPathComponent("docs/CONFIGURATION.md"),
            encoding: .utf8
        )
        let lines = docs.split(separator: "\n", omittingEmptySubsequences: false)
        let header = try #require(lines.firstIndex { $0.hasPrefix("| key | default |") })
        let rows = lines[(header + 2)...].prefix { $0.hasPrefix("| `") }
        let documented = rows.compactMap { $0.dropFirst(3).split(separator: "`").first.map(String.init) }
        #expect(Set(documented) == ConfigurationFileKeys.known)
        #expect(documented.count == ConfigurationFileKeys.known.count, "a key documented twice")
    }

    /// `config/liaisond.json` and every JSON example of the configuration and operations docs.
    @Test func theRepositorysConfigurationFilesAndExamplesHaveOnlyKnownKeys() throws {
        let root = TestDatabase.packageRoot
        var documents = [try String(contentsOf: root.appendingPathComponent("config/liaisond.json"), encoding: .utf8)]
        for page in ["docs/CONFIGURATION.md", "docs/OPERATIONS.md", "README.md"] {
            let text = try String(contentsOf: root.appendingPathComponent(page), encoding: .utf8)
            let blocks = text.components(separatedBy: "```json\n").dropFirst()
            documents += blocks.compactMap { $0.components(separatedBy: "```").first }
        }
        #expect(documents.count >= 2)
        for document in documents {
            #expect(
                (try? JSONSerialization.jsonObject(with: Data(document.utf8))) != nil,
                "not JSON: \(document)"
            )
            #expect(ConfigurationFileKeys.firstUnknown(inJSON: document) == nil, "\(document)")
        }
    }
}

import Foundation
import LiaisonCore
import LiaisonServer
import NIOCore
import Testing

/// The fuzz target's seed corpus (`fuzz/corpus`) and saved regressions (`fuzz/regressions`) as
/// tests: every file must pass ``FuzzHarness/check(_:)``, the seeds that stand for a hostile
/// input decode the way docs/PROTOCOL.md says, and seeded random inputs hold the invariants too.
@Suite struct FuzzCorpusRegressionTests {
    /// The repository's `fuzz` folder, found from this file's path.
    private static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz")

    /// Every regular file of `fuzz/corpus` and `fuzz/regressions`, as `folder/name`.
    static let files: [String] = ["corpus", "regressions"].flatMap { folder in
        let directory = fuzzDirectory.appendingPathComponent(folder).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(folder)/\($0)" }
    }

    private static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fuzzDirectory.appendingPathComponent(file)))
    }

    @Test func theSeedCorpusIsThere() {
        // Without it every argument-driven test below would pass by running nothing.
        #expect(Self.files.count(where: { $0.hasPrefix("corpus/") }) >= 40)
    }

    @Test(arguments: files)
    func everyCorpusFileHoldsTheInvariants(_ file: String) throws {
        let input = try Self.bytes(file)
        do {
            try FuzzHarness.check(input)
        } catch {
            Issue.record("\(file): \(error)")
        }
    }

    /// A seed, and how the daemon's default decoder must end on it: the fatal error's code, or
    /// `nil` when the input is decoded with no fatal error.
    @Test(
        arguments: [
            ("pub-size-minus-one", 400),
            ("pub-size-20-digits", 400),
            ("pub-size-plus", 400),
            ("pub-size-missing", 400),
            ("pub-size-over-limit", 413),
            ("long-line", 413),
            ("pub-no-ending", 400),
            ("pub-simple", nil),
            ("pub-cut-off", nil),
            ("nul-in-control", nil),
            ("pub-invalid-utf8-topic", nil),
        ] as [(String, Int?)]
    )
    func hostileSeedsEndAsTheProtocolSays(_ seed: String, fatalCode: Int?) throws {
        let outcome = try FuzzHarness.check(try Self.bytes("corpus/\(seed)"))
        #expect(outcome.error?.code.rawValue == fatalCode)
        #expect(outcome.error.map(\.closesConnection) ?? true)
    }

    @Test func aPayloadWithLineEndingsAndNULIsOneFrame() throws {
        let outcome = try FuzzHarness.check(try Self.bytes("corpus/pub-payload-crlfnul"))
        let frame = try #require(outcome.frames.first)
        guard case .publish(let request, let payload) = frame else {
            Issue.record("expected a PUB frame, got \(frame)")
            return
        }
        #expect(request.topic.description == "field.mm.sittwe.early-warning")
        #expect(Array(payload.readableBytesView) == Array("\r\n\0\n\r\0ab".utf8))
        #expect(outcome.frames.count == 1 && outcome.error == nil && outcome.unconsumed == 0)
    }

    @Test func aPayloadCutOffMidwayIsNoFrameAndIsNotAnError() throws {
        let outcome = try FuzzHarness.check(try Self.bytes("corpus/pub-cut-off"))
        #expect(outcome.frames.isEmpty)
        #expect(outcome.error == nil)
        #expect(outcome.unconsumed == 3)
    }

    @Test func badBytesInALineGetA400AndTheStreamStaysInSync() throws {
        for seed in ["pub-invalid-utf8-topic", "pub-nul-in-line"] {
            let outcome = try FuzzHarness.check(try Self.bytes("corpus/\(seed)"))
            #expect(outcome.frames.count == 2, "\(seed)")
            guard case .malformed(let error) = outcome.frames.first else {
                Issue.record("\(seed): expected a malformed frame first, got \(outcome.frames)")
                continue
            }
            #expect(error.code == .badRequest && !error.closesConnection)
            #expect(outcome.frames.last == .command(.ping), "\(seed): the payload was skipped")
        }
    }

    /// Random bytes, and seeds with random bytes overwritten, from a fixed seed so a failure repeats.
    @Test(arguments: [1, 2, 3, 4])
    func randomInputsHoldTheInvariants(_ seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let alphabet = Array("PUB SUB ACK PING 0123456789 .*>=\r\n\0-\u{FF}".utf8)
        let seeds = try Self.files.map(Self.bytes)
        for round in 0..<300 {
            var input: [UInt8]
            switch round % 3 {
            case 0:
                input = (0..<Int.random(in: 0...600, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            case 1:
                input = (0..<Int.random(in: 0...600, using: &random)).map { _ in alphabet.randomElement(using: &random)!
                }
            default:
                input = seeds.randomElement(using: &random) ?? []
                for _ in 0..<Int.random(in: 1...4, using: &random) where !input.isEmpty {
                    input[Int.random(in: 0..<input.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            }
            do {
                try FuzzHarness.check(input)
            } catch {
                Issue.record("seed \(seed) round \(round), input \(input): \(error)")
            }
        }
    }
}

/// A small seeded generator (SplitMix64, Steele, Lea and Flood 2014), so random tests repeat.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

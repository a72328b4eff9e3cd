import LiaisonBench
import Testing

/// Option checks of `liaisonctl bench`: each bad value is refused with the option's name.
@Suite struct BenchSettingsTests {
    @Test func theDefaultsAreValid() throws {
        try BenchSettings().validate()
    }

    @Test func publisherCountsParse() throws {
        #expect(try BenchSettings.parseCounts("1,16") == [1, 16])
        #expect(try BenchSettings.parseCounts(" 4 , 8") == [4, 8])
    }

    @Test(arguments: ["", "0", "1,,16", "a", "1,-2", "16x"])
    func badPublisherCountsAreRefused(text: String) {
        #expect(throws: BenchSettingsError("--publishers must be a comma-separated list of counts >= 1, got '\(text)'"))
        {
            try BenchSettings.parseCounts(text)
        }
    }

    @Test(arguments: [
        (BenchSettings(messages: 0), "--messages must be at least 1"),
        (BenchSettings(size: -1), "--size must not be negative"),
        (BenchSettings(window: 0), "--window (--pipeline) must be at least 1"),
        (BenchSettings(runs: 0), "--runs must be at least 1"),
        (BenchSettings(subscribers: -1), "--subscribers must not be negative"),
        (BenchSettings(rate: 0), "--rate must be a number of messages per second above 0, got 0.0"),
        (BenchSettings(rate: -5), "--rate must be a number of messages per second above 0, got -5.0"),
        (BenchSettings(durationSeconds: 0), "--duration must be a number of seconds above 0, got 0.0"),
        (BenchSettings(publishers: [1, 16], messages: 10), "--publishers 16 is more than --messages 10"),
        (BenchSettings(publishers: []), "--publishers must name at least one count"),
    ])
    func badSettingsAreRefused(settings: BenchSettings, message: String) {
        #expect(throws: BenchSettingsError(message)) {
            try settings.validate()
        }
    }

    @Test func aDurationLiftsTheCountCheck() throws {
        try BenchSettings(publishers: [16], messages: 10, durationSeconds: 5).validate()
    }
}

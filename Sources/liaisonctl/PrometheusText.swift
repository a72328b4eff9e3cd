/// The samples of a Prometheus text exposition (format 0.0.4, as swift-prometheus writes it:
/// https://prometheus.io/docs/instrumenting/exposition_formats/): `name{label="value",…} number`
/// per line, `#` lines skipped.
struct PrometheusText: Sendable {
    /// One sample line.
    struct Sample: Sendable, Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    private(set) var samples: [Sample] = []

    /// Parses the text; lines that do not parse are skipped (an exporter's newer line types).
    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            if let sample = Self.parse(line) { self.samples.append(sample) }
        }
    }

    /// The value of the sample `name` with these labels (all of them, no more), if present.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        self.samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The sum over every label set of `name` (0 when absent).
    func sum(_ name: String) -> Double {
        self.samples.filter { $0.name == name }.reduce(0) { $0 + $1.value }
    }

    /// Every sample of `name`.
    func all(_ name: String) -> [Sample] {
        self.samples.filter { $0.name == name }
    }

    /// The upper bound of the histogram bucket (`<name>_bucket{le=…}`) where quantile `q` falls:
    /// the smallest `le` whose cumulative count reaches `q` × the total; `nil` with no observation
    /// or when it falls in `+Inf`.
    func quantileUpperBound(_ name: String, _ q: Double) -> Double? {
        guard let total = self.value(name + "_count"), total > 0 else { return nil }
        let buckets = self.all(name + "_bucket").compactMap { sample -> (Double, Double)? in
            guard let bound = sample.labels["le"].flatMap(Double.init) else { return nil }
            return (bound, sample.value)
        }.sorted { $0.0 < $1.0 }
        return buckets.first { $0.1 >= q * total && $0.0.isFinite }?.0
    }

    private static func parse(_ line: Substring) -> Sample? {
        var labels: [String: String] = [:]
        let name: Substring
        var rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = line[..<brace]
            guard let close = line.lastIndex(of: "}") else { return nil }
            labels = Self.labels(line[line.index(after: brace)..<close])
            rest = line[line.index(after: close)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = line[..<space]
            rest = line[space...]
        }
        rest = rest.drop { $0 == " " }
        let number = rest.split(separator: " ").first ?? ""
        let value: Double? =
            switch number {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            default: Double(number)
            }
        guard let value else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    /// `a="x",b="y\"z"` → `["a": "x", "b": "y\"z"]` (escapes `\\`, `\"`, `\n`).
    private static func labels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            guard let equals = text[index...].firstIndex(of: "=") else { break }
            let key = text[index..<equals].trimmingPrefix(",").trimmingPrefix(" ")
            var value = ""
            var cursor = text.index(after: equals)
            guard cursor < text.endIndex, text[cursor] == "\"" else { break }
            cursor = text.index(after: cursor)
            while cursor < text.endIndex, text[cursor] != "\"" {
                if text[cursor] == "\\", text.index(after: cursor) < text.endIndex {
                    cursor = text.index(after: cursor)
                    value.append(text[cursor] == "n" ? "\n" : text[cursor])
                } else {
                    value.append(text[cursor])
                }
                cursor = text.index(after: cursor)
            }
            labels[String(key)] = value
            index = cursor < text.endIndex ? text.index(after: cursor) : cursor
        }
        return labels
    }
}

/// Left-aligned columns separated by two spaces, for human-readable listings.
struct TextTable {
    private let header: [String]
    private var rows: [[String]] = []

    init(_ header: [String]) {
        self.header = header
    }

    mutating func append(_ row: [String]) {
        self.rows.append(row)
    }

    /// The table as lines, without a trailing line break; the last column is not padded.
    var rendered: String {
        let all = [self.header] + self.rows
        var widths = [Int](repeating: 0, count: self.header.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return all.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                if index == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            return line
        }.joined(separator: "\n")
    }
}

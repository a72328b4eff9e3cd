import LiaisonCore

extension Headers {
    /// The same headers ordered by key, the order replay reads them back from the log in, so a
    /// live `MSG` and a replayed one carry identical header text.
    func sortedByKey() -> Headers {
        let pairs = self.sorted { $0.0 < $1.0 }
        if pairs.elementsEqual(self, by: { $0.0 == $1.0 }) { return self }
        var sorted = Headers()
        for (key, value) in pairs { try? sorted.set(key, value) }
        return sorted
    }
}

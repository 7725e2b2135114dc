/// Lets one compaction run at a time: a compaction holds a whole document's history in memory while it
/// rebuilds the snapshot, so two at once would double the process's peak. Waiters go in FIFO order.
package actor CompactionGate {
    /// The gate every `DocumentStore` uses unless given another: one per process.
    package static let shared = CompactionGate()

    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// The most compactions ever running at once (tests check it stays 1).
    package private(set) var peakConcurrency = 0
    private var current = 0

    package init() {}

    func acquire() async {
        if held {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            held = true
        }
        current += 1
        peakConcurrency = max(peakConcurrency, current)
    }

    func release() {
        current -= 1
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

extension ChangeGraph {
    /// The queued changes whose deps have all been applied, ordered by their position in the
    /// queue: the reference scans its queue from the front for the first ready change, and
    /// this finds the same one without a scan.
    ///
    /// Positions move when a change is swap-removed, so the heap may hold stale positions;
    /// `popFirst` skips those (a position is valid when it still holds a ready change).
    struct ReadyQueue {
        private var heap: [Int] = []
        private var members: Set<ChangeHash> = []

        func contains(_ hash: ChangeHash) -> Bool { members.contains(hash) }

        mutating func insert(_ hash: ChangeHash, at position: Int) {
            members.insert(hash)
            heap.append(position)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child] < heap[parent] else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        mutating func remove(_ hash: ChangeHash) { members.remove(hash) }

        /// The smallest position that holds a ready change, removed from the heap.
        /// `hashAt` gives the change at a queue position (nil past the end).
        mutating func popFirst(hashAt: (Int) -> ChangeHash?) -> Int? {
            while let top = heap.first {
                let last = heap.removeLast()
                if !heap.isEmpty {
                    heap[0] = last
                    var parent = 0
                    while true {
                        let left = 2 * parent + 1
                        let right = left + 1
                        var smallest = parent
                        if left < heap.count && heap[left] < heap[smallest] { smallest = left }
                        if right < heap.count && heap[right] < heap[smallest] { smallest = right }
                        if smallest == parent { break }
                        heap.swapAt(parent, smallest)
                        parent = smallest
                    }
                }
                if let hash = hashAt(top), members.contains(hash) { return top }
            }
            return nil
        }
    }
}

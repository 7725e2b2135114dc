extension ChangeGraph {
    /// Indexes of the applied changes that are not ancestors of (or equal to) `heads`, in
    /// topological order. Unknown hashes in `heads` are ignored.
    ///
    /// Walks back from our heads and from `heads` together, highest index first; a change's
    /// index is larger than its ancestors', so when it is reached its status is final, and the
    /// walk stops as soon as only ancestors of `heads` remain. Cost is proportional to the
    /// changes between the two frontiers, not to the history.
    func indexesNotAncestors(of heads: [ChangeHash]) -> [Int] {
        let known = heads.compactMap { indexByHash[$0] }
        if known.isEmpty { return Array(0..<count) }
        var isAncestor: [Int32: Bool] = [:]
        var heap = MaxHeap()
        var pendingOurs = 0
        for index in known where isAncestor[index] == nil {
            isAncestor[index] = true
            heap.push(index)
        }
        for head in headSet where isAncestor[head] == nil {
            isAncestor[head] = false
            heap.push(head)
            pendingOurs += 1
        }
        var result: [Int] = []
        while pendingOurs > 0, let index = heap.pop() {
            let ancestor = isAncestor[index] ?? true
            if !ancestor {
                pendingOurs -= 1
                result.append(Int(index))
            }
            for dep in deps(at: Int(index)) {
                if let status = isAncestor[dep] {
                    if ancestor && !status {
                        isAncestor[dep] = true
                        pendingOurs -= 1
                    }
                } else {
                    isAncestor[dep] = ancestor
                    heap.push(dep)
                    if !ancestor { pendingOurs += 1 }
                }
            }
        }
        return result.reversed()
    }

    /// Hashes of the applied changes that are not ancestors of `heads`, in topological order.
    package func changes(notAncestorsOf heads: [ChangeHash]) -> [ChangeHash] {
        indexesNotAncestors(of: heads).map { hashes[$0] }
    }

    /// Whether `hash` is `target` or one of its ancestors.
    package func isAncestorOrEqual(_ hash: ChangeHash, of targets: [ChangeHash]) -> Bool {
        ancestors(of: targets).contains(hash)
    }

    /// Every applied change that `heads` depend on (including `heads`), as hashes.
    package func ancestors(of heads: [ChangeHash]) -> Set<ChangeHash> {
        var result: Set<ChangeHash> = []
        var stack = heads.compactMap { indexByHash[$0] }
        var visited = Set(stack)
        while let index = stack.popLast() {
            result.insert(hashes[Int(index)])
            for dep in deps(at: Int(index)) where visited.insert(dep).inserted { stack.append(dep) }
        }
        return result
    }

    /// Walking back from `heads` through queued changes, the hashes we have neither applied
    /// nor queued: what to ask a peer for (sorted).
    package func missingDeps(from heads: [ChangeHash]) -> [ChangeHash] {
        var missing: Set<ChangeHash> = []
        var visited: Set<ChangeHash> = []
        var stack = heads
        while let hash = stack.popLast() {
            guard visited.insert(hash).inserted, !contains(hash) else { continue }
            if let change = queued[hash] {
                stack.append(contentsOf: change.metadata.deps)
            } else {
                missing.insert(hash)
            }
        }
        return missing.sorted()
    }

    /// Deps of queued changes that are neither applied nor queued (sorted).
    package var missingDeps: [ChangeHash] {
        waiting.keys.filter { !contains($0) && queued[$0] == nil }.sorted()
    }

    /// The raw chunks of the given applied changes (unknown hashes skipped).
    package func chunks(for hashes: [ChangeHash]) -> [ChangeChunk] { hashes.compactMap { chunk(for: $0) } }
}

/// A binary max-heap of change indexes.
struct MaxHeap {
    private var items: [Int32] = []

    mutating func push(_ value: Int32) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent] < items[child] else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Int32? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var largest = parent
                if left < items.count && items[left] > items[largest] { largest = left }
                if right < items.count && items[right] > items[largest] { largest = right }
                if largest == parent { break }
                items.swapAt(parent, largest)
                parent = largest
            }
        }
        return top
    }
}

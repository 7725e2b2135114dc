/// The change graph's hash → node lookup: an open-addressing table of node indexes whose keys are
/// the hashes the graph already stores (`hashes[node]`), so a change costs 4 to 8 bytes of table
/// here instead of a dictionary's 36 or more (its key copied, its value, at most 3/4 full).
/// Essay-sized histories (a quarter of a million changes) save about 17 MB.
///
/// Buckets are chosen by the hash's seeded `hashValue` (the process's random hashing seed), not by
/// its raw bytes: change hashes come from peers, and a peer can grind changes whose hashes share
/// low bits, but not ones that collide under a seed it does not know.
struct ChangeHashIndex: Sendable {
    /// Node indexes, -1 for an empty bucket; a power of two long, at most 3/4 full.
    private var slots: [Int32] = []
    private(set) var count = 0

    /// The node whose hash is `hash`, given the graph's hashes.
    func find(_ hash: ChangeHash, in hashes: [ChangeHash]) -> Int32? {
        guard count > 0 else { return nil }
        let mask = slots.count - 1
        var slot = hash.hashValue & mask
        while true {
            let node = slots[slot]
            if node < 0 { return nil }
            if hashes[Int(node)] == hash { return node }
            slot = (slot + 1) & mask
        }
    }

    /// Adds `node`, whose hash is `hashes[node]`. Returns false (and adds nothing) when a node with
    /// that hash is already in the table.
    @discardableResult
    mutating func insert(_ node: Int32, in hashes: [ChangeHash]) -> Bool {
        if (count + 1) * 4 > slots.count * 3 { rehash(capacity: count + 1, hashes) }
        let hash = hashes[Int(node)]
        let mask = slots.count - 1
        var slot = hash.hashValue & mask
        while slots[slot] >= 0 {
            if hashes[Int(slots[slot])] == hash { return false }
            slot = (slot + 1) & mask
        }
        slots[slot] = node
        count += 1
        return true
    }

    /// Makes room for `capacity` nodes in all, so that filling the table does not rehash it.
    mutating func reserveCapacity(_ capacity: Int, _ hashes: [ChangeHash]) {
        if capacity * 4 > slots.count * 3 { rehash(capacity: capacity, hashes) }
    }

    private mutating func rehash(capacity: Int, _ hashes: [ChangeHash]) {
        var size = max(16, slots.count)
        while capacity * 4 > size * 3 { size *= 2 }
        let old = slots
        slots = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for node in old where node >= 0 {
            var slot = hashes[Int(node)].hashValue & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = node
        }
    }

    /// Bytes of the table.
    var bytes: Int { slots.capacity * MemoryLayout<Int32>.stride }
}

extension ChangeGraph {
    /// Reads the graph's hash index like a dictionary: `indexByHash[hash]` is the node or nil.
    struct HashLookup {
        let table: ChangeHashIndex
        let hashes: [ChangeHash]
        subscript(hash: ChangeHash) -> Int32? { table.find(hash, in: hashes) }
    }
}

/// The largest op counter per actor among the changes that some heads include: what decides
/// whether an op is part of a historical state.
package struct VectorClock: Sendable, Equatable {
    package var maxOps: [ActorId: UInt64]

    package init(_ maxOps: [ActorId: UInt64] = [:]) { self.maxOps = maxOps }

    package subscript(actor: ActorId) -> UInt64 { maxOps[actor] ?? 0 }
}

extension ChangeGraph {
    /// The clock of `heads`: every applied change that is an ancestor of, or equal to, one of
    /// `heads`, reduced to each actor's largest op counter. Unknown hashes are ignored.
    package func clock(at heads: [ChangeHash]) -> VectorClock {
        var maxOps = [UInt64](repeating: 0, count: actors.count)
        var stack = heads.compactMap { indexByHash[$0] }
        var visited = Set(stack)
        while let index = stack.popLast() {
            let actor = Int(nodeActor[Int(index)])
            maxOps[actor] = max(maxOps[actor], UInt64(nodeMaxOp[Int(index)]))
            for dep in deps(at: Int(index)) where visited.insert(dep).inserted { stack.append(dep) }
        }
        var result: [ActorId: UInt64] = [:]
        for (index, value) in maxOps.enumerated() where value > 0 { result[actors[index]] = value }
        return VectorClock(result)
    }
}

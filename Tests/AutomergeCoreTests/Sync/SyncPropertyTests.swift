import TestSupport
import Testing

@testable import AutomergeCore

/// Random concurrent histories split between two peers always converge.
@Suite struct SyncPropertyTests {
    /// Builds changes for three actors on two replicas that occasionally merge.
    struct HistoryBuilder {
        var generator: SplitMix64
        let actors = (0..<3).map { ActorId((0..<16).map { UInt8($0 * 7 + 1) } + [UInt8($0)]) }
        var seq: [ActorId: UInt64] = [:]
        var maxOp: UInt64 = 0

        init(seed: UInt64) { generator = SplitMix64(seed: seed) }

        mutating func makeChange(on graph: inout ChangeGraph, actor: ActorId) throws {
            let next = (seq[actor] ?? 0) + 1
            seq[actor] = next
            let opCount = Int.random(in: 0...3, using: &generator)
            let start = maxOp + 1
            maxOp += UInt64(max(opCount, 0))
            let ops = (0..<opCount).map { index in
                Op(object: .root, key: .map("k\(index)"), action: .put, value: .int(Int64.random(in: -1000...1000, using: &generator)))
            }
            let change = Change(deps: graph.heads, actor: actor, seq: next, startOp: start, time: Int64(next), ops: ops)
            try graph.add(change.encodeChunk())
        }
    }

    @Test(arguments: 0..<60)
    func randomHistoriesConverge(seed: Int) throws {
        var builder = HistoryBuilder(seed: UInt64(seed) &* 0x9E37_79B9)
        var a = ChangeGraph()
        var b = ChangeGraph()
        // A shared prefix, then concurrent work. Each actor writes on one replica only, so
        // (actor, seq) stays unique, as real peers guarantee.
        let sharedCount = Int.random(in: 0...5, using: &builder.generator)
        for _ in 0..<sharedCount { try builder.makeChange(on: &a, actor: builder.actors[0]) }
        for hash in a.allHashes {
            let chunk = try #require(a.chunk(for: hash))
            try b.add(chunk)
        }
        let steps = Int.random(in: 0...30, using: &builder.generator)
        for _ in 0..<steps {
            if Bool.random(using: &builder.generator) {
                try builder.makeChange(on: &a, actor: builder.actors[Int.random(in: 0...1, using: &builder.generator)])
            } else {
                try builder.makeChange(on: &b, actor: builder.actors[2])
            }
        }
        let union = Set(a.allHashes).union(b.allHashes)
        var harness = SyncHarness(a: a, b: b)
        if seed % 3 == 1 { harness.bIsV1Only = true }
        let rounds = try harness.run(maximumRounds: 20)
        #expect(rounds != nil, "seed \(seed): no convergence in 20 rounds")
        #expect(harness.a.heads == harness.b.heads)
        #expect(Set(harness.a.allHashes) == union)
        #expect(Set(harness.b.allHashes) == union)
        #expect(harness.a.queuedCount == 0 && harness.b.queuedCount == 0)
    }

    /// A peer that lost its data (empty heads) gets everything again.
    @Test func peerThatLostItsDataResyncs() throws {
        var builder = HistoryBuilder(seed: 42)
        var a = ChangeGraph()
        for _ in 0..<10 { try builder.makeChange(on: &a, actor: builder.actors[0]) }
        var harness = SyncHarness(a: a, b: ChangeGraph())
        #expect(try harness.run() != nil)
        #expect(harness.b.heads == a.heads)
        // B loses everything but A keeps its session state.
        harness.b = ChangeGraph()
        harness.stateB = SyncState()
        #expect(try harness.run() != nil)
        #expect(harness.b.heads == a.heads)
    }
}

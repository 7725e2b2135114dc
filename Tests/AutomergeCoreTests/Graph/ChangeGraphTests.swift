import Foundation
import TestSupport
import Testing

@testable import AutomergeCore

/// The change DAG: queueing, duplicates, atomic batches, ancestry and heads, on changes built
/// with the encoder (no fixtures needed except where noted).
@Suite struct ChangeGraphTests {
    static let alice = ActorId([0xa1] + [UInt8](repeating: 0x11, count: 15))
    static let bob = ActorId([0xb0] + [UInt8](repeating: 0x22, count: 15))
    static let carol = ActorId([0xc4] + [UInt8](repeating: 0x33, count: 15))

    /// A change with one op (a map put under `key`), so distinct arguments give distinct hashes.
    static func change(
        _ actor: ActorId,
        seq: UInt64,
        deps: [ChangeHash] = [],
        startOp: UInt64 = 1,
        time: Int64 = 0,
        message: String? = nil,
        key: String = "k"
    ) -> ChangeChunk {
        Change(
            deps: deps.sorted(),
            actor: actor,
            seq: seq,
            startOp: startOp,
            time: time,
            message: message,
            ops: [Op(object: .root, key: .map(key), action: .put, value: .uint(seq))]
        ).encodeChunk()
    }

    // MARK: - Queueing

    @Test func orphanIsQueuedUntilItsParentArrives() throws {
        let parent = Self.change(Self.alice, seq: 1)
        let child = Self.change(Self.alice, seq: 2, deps: [parent.hash], startOp: 2)
        var graph = ChangeGraph()

        let first = try graph.add(child)
        #expect(first.queued == 1)
        #expect(first.applied.isEmpty)
        #expect(graph.count == 0)
        #expect(graph.heads.isEmpty)
        #expect(graph.isQueued(child.hash))
        #expect(!graph.contains(child.hash))
        #expect(graph.missingDeps == [parent.hash])
        #expect(graph.missingDeps(from: [child.hash]) == [parent.hash])
        #expect(graph.metadata(for: child.hash) == nil)

        let second = try graph.add(parent)
        #expect(second.applied == [parent.hash, child.hash])
        #expect(second.queued == 0)
        #expect(graph.count == 2)
        #expect(graph.queuedCount == 0)
        #expect(graph.heads == [child.hash])
        #expect(graph.missingDeps.isEmpty)
        #expect(graph.allHashes == [parent.hash, child.hash])
        #expect(graph.deps(of: child.hash) == [parent.hash])
    }

    @Test func longChainArrivingBackwardsIsAppliedInOneGo() throws {
        var chunks: [ChangeChunk] = []
        for seq in 1...50 {
            chunks.append(Self.change(Self.alice, seq: UInt64(seq), deps: chunks.last.map { [$0.hash] } ?? [], startOp: UInt64(seq)))
        }
        var graph = ChangeGraph()
        for chunk in chunks.dropFirst().reversed() { try graph.add(chunk) }
        #expect(graph.count == 0)
        #expect(graph.queuedCount == 49)
        #expect(graph.missingDeps == [chunks[0].hash])
        // The walk goes through all 49 queued changes down to the one that is missing.
        #expect(graph.missingDeps(from: [chunks[49].hash]) == [chunks[0].hash])
        let result = try graph.add(chunks[0])
        #expect(result.applied == chunks.map(\.hash))
        #expect(graph.heads == [chunks[49].hash])
        #expect(graph.queuedCount == 0)
    }

    @Test func missingDepsWalksThroughQueuedChanges() throws {
        let root = Self.change(Self.alice, seq: 1)
        let known = Self.change(Self.bob, seq: 1, deps: [root.hash])
        let lost = Self.change(Self.carol, seq: 1, deps: [root.hash])
        let queuedA = Self.change(Self.alice, seq: 2, deps: [known.hash, lost.hash], startOp: 2)
        let queuedB = Self.change(Self.alice, seq: 3, deps: [queuedA.hash], startOp: 3)
        var graph = ChangeGraph()
        try graph.add([root, known])
        try graph.add([queuedB, queuedA])
        #expect(graph.queuedCount == 2)
        // `known` is applied, `queuedA` is queued: only `lost` is missing behind queuedB.
        #expect(graph.missingDeps(from: [queuedB.hash]) == [lost.hash])
        #expect(graph.missingDeps(from: [queuedA.hash, known.hash]) == [lost.hash])
        #expect(graph.missingDeps == [lost.hash])
        // Applied heads need nothing; an unknown hash is itself missing.
        #expect(graph.missingDeps(from: [known.hash]).isEmpty)
        let stranger = Self.change(Self.carol, seq: 9)
        #expect(graph.missingDeps(from: [stranger.hash, queuedB.hash]) == [lost.hash, stranger.hash].sorted())
        try graph.add(lost)
        #expect(graph.queuedCount == 0)
        #expect(graph.heads == [queuedB.hash])
        #expect(graph.missingDeps(from: [queuedB.hash]).isEmpty)
    }

    // MARK: - Duplicates and conflicting seqs

    @Test func duplicateHashIsIgnored() throws {
        let first = Self.change(Self.alice, seq: 1)
        let orphan = Self.change(Self.alice, seq: 3, deps: [Self.change(Self.alice, seq: 2).hash], startOp: 3)
        var graph = ChangeGraph()
        try graph.add([first, orphan])
        let again = try graph.add([first, orphan, first])
        #expect(again.duplicates == 3)
        #expect(again.applied.isEmpty)
        #expect(again.queued == 0)
        #expect(graph.count == 1)
        #expect(graph.queuedCount == 1)
        #expect(graph.heads == [first.hash])
    }

    @Test func sameSeqWithAnotherHashIsRejectedAtomically() throws {
        let original = Self.change(Self.alice, seq: 1, time: 1)
        let impostor = Self.change(Self.alice, seq: 1, time: 2)
        #expect(original.hash != impostor.hash)
        let innocent = Self.change(Self.bob, seq: 1)
        var graph = ChangeGraph()
        try graph.add(original)
        let heads = graph.heads

        // Against a stored change: the innocent change in the same batch is not applied either.
        #expect(throws: AutomergeError.duplicateSeqNumber(seq: 1, actor: Self.alice.hex)) {
            try graph.add([innocent, impostor])
        }
        #expect(graph.count == 1)
        #expect(graph.heads == heads)
        #expect(!graph.contains(innocent.hash))
        #expect(!graph.isQueued(innocent.hash))
        #expect(graph.metadata(for: original.hash)?.time == 1)

        // Within one batch, on an empty graph.
        var empty = ChangeGraph()
        #expect(throws: AutomergeError.duplicateSeqNumber(seq: 1, actor: Self.alice.hex)) {
            try empty.add([innocent, original, impostor])
        }
        #expect(empty.count == 0)
        #expect(empty.queuedCount == 0)

        // Through `load`, where the batch is a concatenation of chunks.
        do {
            try graph.load(innocent.bytes + impostor.bytes)
            Issue.record("load accepted a conflicting seq")
        } catch {
            #expect(error.underlying == .duplicateSeqNumber(seq: 1, actor: Self.alice.hex))
        }
        #expect(graph.count == 1)
        #expect(graph.heads == heads)
        #expect(!graph.contains(innocent.hash))
    }

    // MARK: - Heads

    @Test func headsOfDiamondsAndForks() throws {
        let root = Self.change(Self.alice, seq: 1)
        let left = Self.change(Self.alice, seq: 2, deps: [root.hash], startOp: 2)
        let right = Self.change(Self.bob, seq: 1, deps: [root.hash], startOp: 2)
        let third = Self.change(Self.carol, seq: 1, deps: [root.hash], startOp: 2)
        var graph = ChangeGraph()
        try graph.add([root, left, right])
        #expect(graph.heads == [left.hash, right.hash].sorted())
        try graph.add(third)
        #expect(graph.heads == [left.hash, right.hash, third.hash].sorted())
        let merge = Self.change(Self.alice, seq: 3, deps: [left.hash, right.hash], startOp: 3)
        try graph.add(merge)
        #expect(graph.heads == [merge.hash, third.hash].sorted())
        let top = Self.change(Self.carol, seq: 2, deps: [merge.hash, third.hash], startOp: 4)
        try graph.add(top)
        #expect(graph.heads == [top.hash])
        // A second root (no deps) is a head of its own.
        let island = Self.change(ActorId([0xee]), seq: 1)
        try graph.add(island)
        #expect(graph.heads == [top.hash, island.hash].sorted())
        #expect(graph.actorCount == 4)
        #expect(graph.changes(notAncestorsOf: [top.hash]) == [island.hash])
        #expect(graph.ancestors(of: [merge.hash]) == [root.hash, left.hash, right.hash, merge.hash])
    }

    // MARK: - Ancestry against brute force

    struct RandomDAG {
        var chunks: [ChangeChunk] = []
        var deps: [[Int]] = []

        init(seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            let actors = (0..<Int.random(in: 1...4, using: &rng)).map { ActorId([UInt8($0), UInt8(truncatingIfNeeded: seed)]) }
            var seqs = [UInt64](repeating: 0, count: actors.count)
            let count = Int.random(in: 1...40, using: &rng)
            for index in 0..<count {
                var parents: Set<Int> = []
                if index > 0 {
                    for _ in 0..<Int.random(in: 0...3, using: &rng) { parents.insert(Int.random(in: 0..<index, using: &rng)) }
                }
                let actor = Int.random(in: 0..<actors.count, using: &rng)
                seqs[actor] += 1
                deps.append(parents.sorted())
                chunks.append(
                    ChangeGraphTests.change(
                        actors[actor],
                        seq: seqs[actor],
                        deps: parents.map { chunks[$0].hash },
                        startOp: UInt64(index + 1),
                        key: "n\(index)"
                    )
                )
            }
        }

        /// Indexes of `heads` and all their ancestors.
        func ancestorsOrEqual(_ heads: [Int]) -> Set<Int> {
            var seen: Set<Int> = []
            var stack = heads
            while let next = stack.popLast() {
                if seen.insert(next).inserted { stack.append(contentsOf: deps[next]) }
            }
            return seen
        }
    }

    @Test(arguments: 0..<100)
    func ancestryMatchesBruteForce(seed: Int) throws {
        let dag = RandomDAG(seed: UInt64(seed) &* 0x9e37_79b9 &+ 17)
        var rng = SplitMix64(seed: UInt64(seed))
        var graph = ChangeGraph()
        // Random arrival order exercises the queue; the result must not depend on it.
        try graph.add(dag.chunks.shuffled(using: &rng))
        #expect(graph.count == dag.chunks.count)
        #expect(graph.queuedCount == 0)
        let all = Set(dag.chunks.indices)
        let expectedHeads = all.subtracting(dag.deps.flatMap { $0 }).map { dag.chunks[$0].hash }.sorted()
        #expect(graph.heads == expectedHeads)

        let stranger = ChangeGraphTests.change(ActorId([0xff]), seq: 1).hash
        for round in 0..<8 {
            var chosen: [Int] = []
            for _ in 0..<Int.random(in: 0...3, using: &rng) { chosen.append(Int.random(in: 0..<dag.chunks.count, using: &rng)) }
            var heads = chosen.map { dag.chunks[$0].hash }
            if round % 3 == 2 { heads.append(stranger) }
            let covered = chosen.isEmpty ? [] : dag.ancestorsOrEqual(chosen)
            let expected = Set(all.subtracting(covered).map { dag.chunks[$0].hash })

            let result = graph.changes(notAncestorsOf: heads)
            #expect(Set(result) == expected, "seed \(seed), heads \(chosen)")
            #expect(result.count == expected.count, "no duplicates")
            #expect(graph.indexesNotAncestors(of: heads).map { graph.hash(at: $0) } == result)
            // Topological: every dep that is also in the result comes first.
            var position: [ChangeHash: Int] = [:]
            for (offset, hash) in result.enumerated() { position[hash] = offset }
            for (offset, hash) in result.enumerated() {
                for dep in graph.deps(of: hash) ?? [] {
                    if let depPosition = position[dep] { #expect(depPosition < offset) }
                }
            }
            #expect(graph.ancestors(of: heads) == Set(covered.map { dag.chunks[$0].hash }))
            let probe = Int.random(in: 0..<dag.chunks.count, using: &rng)
            #expect(graph.isAncestorOrEqual(dag.chunks[probe].hash, of: heads) == covered.contains(probe))
        }
    }

    // MARK: - Metadata, retention, idempotence

    @Test func metadataIsKeptWithoutChunkBytes() throws {
        let first = Self.change(Self.alice, seq: 1, time: -5, message: "hello")
        let second = Self.change(Self.bob, seq: 1, deps: [first.hash], startOp: 2, time: 1 << 40)
        var lean = ChangeGraph(retainingChanges: false)
        var full = ChangeGraph()
        try lean.add([second, first])
        try full.add([first, second])
        #expect(lean.heads == full.heads)
        for chunk in [first, second] {
            let change = try Change(chunk: chunk)
            let metadata = try #require(lean.metadata(for: chunk.hash))
            #expect(metadata == full.metadata(for: chunk.hash))
            #expect(metadata.actor == change.actor)
            #expect(metadata.seq == change.seq)
            #expect(metadata.startOp == change.startOp)
            #expect(metadata.maxOp == change.maxOp)
            #expect(metadata.time == change.time)
            #expect(metadata.message == change.message)
            #expect(metadata.deps == change.deps)
            #expect(try ChangeMetadata(chunk: chunk) == metadata)
            #expect(lean.chunk(for: chunk.hash) == nil)
            #expect(full.chunk(for: chunk.hash)?.bytes == chunk.bytes)
        }
        #expect(lean.chunks(for: [first.hash, second.hash]).isEmpty)
        #expect(full.chunks(for: [first.hash, second.hash]).map(\.bytes) == [first.bytes, second.bytes])
    }

    @Test func loadingTheSameBytesTwiceIsIdempotent() throws {
        let dag = RandomDAG(seed: 0x1de)
        let bytes = dag.chunks.flatMap(\.bytes)
        var graph = ChangeGraph()
        let first = try graph.load(bytes)
        #expect(first.result.applied.count == dag.chunks.count)
        let heads = graph.heads
        let hashes = graph.allHashes
        let second = try graph.load(bytes)
        #expect(second.result.applied.isEmpty)
        #expect(second.result.duplicates == dag.chunks.count)
        #expect(graph.heads == heads)
        #expect(graph.allHashes == hashes)
        #expect(graph.queuedCount == 0)
    }

    @Test(.needsFixtures) func loadingADocumentTwiceIsIdempotent() throws {
        let bytes = try Fixtures.bytes("generated/counter.automerge")
        var graph = ChangeGraph()
        try graph.load(bytes)
        let heads = graph.heads
        let count = graph.count
        #expect(count > 0)
        let again = try graph.load(bytes)
        #expect(again.result.applied.isEmpty)
        #expect(graph.heads == heads)
        #expect(graph.count == count)
        // The document's changes as chunks, after the document: all duplicates.
        let changes = try graph.load(try Fixtures.bytes("generated/counter.changes"))
        #expect(changes.result.duplicates == count)
        #expect(graph.count == count)
    }

    @Test(.needsFixtures) func loadOrderDoesNotMatter() throws {
        let meta = try Fixtures.json("generated/changes-1000.meta.json")
        let expectedHeads = ((meta["heads"] as? [String]) ?? []).sorted()
        let expectedCount = try #require((meta["changes"] as? NSNumber)?.intValue)
        let chunks: [ChangeChunk] = try ChunkReader.readAll(try Fixtures.bytes("generated/changes-1000.changes")).compactMap {
            if case .change(let change) = $0 { change } else { nil }
        }
        #expect(chunks.count == expectedCount)
        var rng = SplitMix64(seed: 0x1000)
        for round in 0..<4 {
            let shuffled = chunks.shuffled(using: &rng)
            var graph = ChangeGraph()
            if round % 2 == 0 {
                try graph.load(shuffled.flatMap(\.bytes))
            } else {
                // In several batches, so that changes wait across calls.
                for start in stride(from: 0, to: shuffled.count, by: 97) {
                    try graph.add(Array(shuffled[start..<min(start + 97, shuffled.count)]))
                }
            }
            #expect(graph.heads.map(\.hex) == expectedHeads, "round \(round)")
            #expect(graph.count == expectedCount)
            #expect(graph.queuedCount == 0)
            #expect(graph.missingDeps.isEmpty)
        }
    }
}

import TestSupport
import Testing

@testable import AutomergeCore

/// What a graph holds of the changes a peer sends: a large change is kept once, in the buffer it was
/// parsed into, and can be let go once stored; and a peer is not sent back the changes its own heads
/// say it has.
@Suite struct ReceivedChangeBytesTests {
    /// A linear history of one actor, each change putting a bytes value of the given size.
    static func history(payloads: [Int]) -> [ChangeChunk] {
        var chunks: [ChangeChunk] = []
        var deps: [ChangeHash] = []
        let actor = ActorId([UInt8](repeating: 7, count: 16))
        for (index, size) in payloads.enumerated() {
            var random = SplitMix64(seed: UInt64(index + 1))
            let payload = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let op = Op(object: .root, key: .map("k\(index)"), action: .put, value: .bytes(payload))
            let seq = UInt64(index + 1)
            let chunk = Change(deps: deps, actor: actor, seq: seq, startOp: seq, time: 0, ops: [op]).encodeChunk()
            deps = [chunk.hash]
            chunks.append(chunk)
        }
        return chunks
    }

    /// An upload as the attack of issue 14 (c) sends it: every change, the sender's heads, and a
    /// `have` whose Bloom filter is empty.
    static func upload(_ chunks: [ChangeChunk]) -> SyncMessage {
        SyncMessage(version: .v1, heads: [chunks[chunks.count - 1].hash], need: [], have: [SyncHave()], changes: chunks.map(\.bytes))
    }

    @Test func largeReceivedChangesAreHeldOnceAndReleasedWhenStored() throws {
        let chunks = Self.history(payloads: [100_000, 120_000, 300, 90_000])
        let large = chunks.filter { $0.bytes.count >= ChangeStore.ownSegmentSize }
        #expect(large.count == 3)
        var graph = ChangeGraph()
        var state = SyncState()
        let result = try graph.receiveSyncMessage(&state, Self.upload(chunks))
        #expect(result.applied == chunks.map(\.hash))
        // Each large change costs its own size, not a share of a segment that grew by doubling.
        let total = chunks.reduce(0) { $0 + $1.bytes.count }
        #expect(graph.footprint.changeBytes <= total + (1 << 16), "\(graph.footprint.changeBytes) bytes held for \(total)")
        #expect(chunks.allSatisfy { graph.chunk(for: $0.hash) == $0 })

        let released = graph.releaseLargeChangeBytes(result.applied)
        #expect(released >= large.reduce(0) { $0 + $1.bytes.count })
        #expect(graph.footprint.changeBytes <= (1 << 16) + 1024, "the small change's segment only")
        for chunk in large {
            #expect(!graph.hasBytes(for: chunk.hash))
            #expect(graph.chunk(for: chunk.hash) == nil)
            #expect(graph.metadata(for: chunk.hash)?.seq != nil)
        }
        // The small change shares a segment and stays.
        #expect(graph.chunk(for: chunks[2].hash) == chunks[2])
        #expect(graph.heads == [chunks[3].hash])
        // A change applied afterwards still lands (a new segment).
        let next = Self.history(payloads: [100_000, 120_000, 300, 90_000, 50])[4]
        try graph.add(next)
        #expect(graph.chunk(for: next.hash) == next)
    }

    @Test func changesThePeersHeadsCoverAreNotSentBack() throws {
        let chunks = Self.history(payloads: [2_000, 3_000, 4_000])
        var server = ChangeGraph()
        var state = SyncState()
        try server.receiveSyncMessage(&state, Self.upload(chunks))
        #expect(server.count == 3)
        let reply = try #require(server.generateSyncMessage(&state))
        #expect(reply.changes.isEmpty, "the uploader was sent back \(reply.changes.count) entries")
        #expect(reply.heads == [chunks[2].hash])

        // A peer that has only the first change (by its heads) gets the other two, and only those.
        var behind = SyncState()
        try server.receiveSyncMessage(&behind, SyncMessage(version: .v1, heads: [chunks[0].hash], need: [], have: [SyncHave()]))
        let catchUp = try #require(server.generateSyncMessage(&behind))
        #expect(catchUp.changes == [chunks[1].bytes, chunks[2].bytes])

        // An explicit need is answered even for a change the peer's heads cover.
        var needy = SyncState()
        try server.receiveSyncMessage(&needy, SyncMessage(version: .v1, heads: [chunks[2].hash], need: [chunks[0].hash], have: []))
        let answer = try #require(server.generateSyncMessage(&needy))
        #expect(answer.changes == [chunks[0].bytes])
    }
}

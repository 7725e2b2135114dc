import Foundation
import Testing

@testable import AutomergeCore

@Suite(.needsFixtures) struct ChangeRoundTripTests {
    /// Every change file in the fixtures: decode → encode reproduces the chunk byte for byte,
    /// and the metadata parse agrees with the full decode and with the reference's meta JSON.
    @Test(
        arguments: Fixtures.available
            ? Fixtures.files(in: "generated", suffix: ".changes") + Fixtures.files(in: "generated/am2", suffix: ".changes") : []
    )
    func changesReencodeByteForByte(path: String) throws {
        let bytes = try Fixtures.bytes(path)
        let chunks = try ChunkReader.readAll(bytes)
        let metaPath = String(path.dropLast(".changes".count)) + ".meta.json"
        let meta = try Fixtures.json(metaPath)
        let changeList = meta["changeList"] as? [[String: Any]]
        if let changeList { #expect(changeList.count == chunks.count) }
        for (index, chunk) in chunks.enumerated() {
            guard case .change(let changeChunk) = chunk else {
                Issue.record("\(path): chunk \(index) is not a change")
                continue
            }
            let change = try Change(chunk: changeChunk)
            let reencoded = change.encodeChunk()
            #expect(reencoded.bytes == changeChunk.bytes, "\(path) change \(index) re-encodes differently")
            #expect(reencoded.hash == changeChunk.hash)
            let metadata = try ChangeMetadata(chunk: changeChunk)
            #expect(metadata.maxOp == change.maxOp)
            #expect(metadata.deps == change.deps)
            if let entry = changeList?[index] {
                #expect(metadata.hash.hex == entry["hash"] as? String)
                #expect(metadata.actor.hex == entry["actor"] as? String)
                #expect(metadata.seq == (entry["seq"] as? NSNumber)?.uint64Value)
                #expect(metadata.startOp == (entry["startOp"] as? NSNumber)?.uint64Value)
                #expect(Int64(change.ops.count) == (entry["ops"] as? NSNumber)?.int64Value)
                #expect(metadata.time == (entry["time"] as? NSNumber)?.int64Value)
                #expect(metadata.message == entry["message"] as? String)
                #expect(metadata.deps.map(\.hex).sorted() == ((entry["deps"] as? [String]) ?? []).sorted())
            }
        }
    }

    @Test func twoChangeChunksVector() throws {
        let chunks = try ChunkReader.readAll(try Fixtures.bytes("upstream/two_change_chunks.automerge"))
        guard case .change(let first) = chunks.first else {
            Issue.record("not a change")
            return
        }
        #expect(first.hash.hex == "9ac3d730f262da35e71db591b9e8150de9b02826daf75006f2298916adec6e0b")
        #expect(Array(first.bytes[0..<10]) == [0x85, 0x6f, 0x4a, 0x83, 0x9a, 0xc3, 0xd7, 0x30, 0x01, 0x39])
        let change = try Change(chunk: first)
        #expect(change.message == "change 1")
        #expect(change.time == 1_675_313_094_465)
        #expect(change.ops == [Op(object: .root, key: .map("a"), action: .makeMap)])
        let compressed = try ChunkReader.readAll(try Fixtures.bytes("upstream/two_change_chunks_compressed.automerge"))
        guard case .change(let inflated) = compressed.first else {
            Issue.record("not a change")
            return
        }
        #expect(inflated.bytes == first.bytes)
    }
}

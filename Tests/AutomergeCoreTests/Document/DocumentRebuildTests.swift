import Foundation
import Testing

@testable import AutomergeCore

@Suite(.needsFixtures) struct DocumentRebuildTests {
    static let generatedDocuments: [String] =
        Fixtures.available
        ? (Fixtures.files(in: "generated", suffix: ".automerge") + Fixtures.files(in: "generated/am2", suffix: ".automerge"))
            .filter { !$0.hasSuffix(".prefix.automerge") }
        : []

    /// The small batches slice: one copy of each small document (no am2 twin, no uncompressed twin).
    static let smallDocuments: [String] = generatedDocuments.filter {
        !$0.hasPrefix("generated/am2/") && !$0.contains(".nocompress.") && !$0.contains("changes-20000")
    }

    /// Rebuilding a saved document gives exactly the change chunks the reference reports.
    @Test(arguments: generatedDocuments)
    func rebuildsReferenceChanges(path: String) async throws {
        try await offPool {
            try Self.expectReferenceChanges(path: path, batchOps: DocumentLimits.defaultBatchOps)
        }
    }

    /// The same in small batches (`DocumentLimits.batchOps`): one op per batch splits every change
    /// into one piece per op; 13 and 200 cut batches through changes and groups.
    @Test(arguments: smallDocuments, [1, 13, 200])
    func rebuildsReferenceChangesInSmallBatches(path: String, batchOps: Int) async throws {
        try await offPool {
            try Self.expectReferenceChanges(path: path, batchOps: batchOps)
        }
    }

    static func expectReferenceChanges(path: String, batchOps: Int) throws {
        let name = path.replacingOccurrences(of: ".nocompress.automerge", with: "").replacingOccurrences(of: ".automerge", with: "")
        let file = try Fixtures.bytes(path)
        let chunks = try ChunkReader.readAll(file)
        let limits = DocumentLimits(
            maximumChanges: DocumentLimits.default.maximumChanges,
            maximumOps: DocumentLimits.default.maximumOps,
            batchOps: batchOps
        )
        var rebuilt: [ChangeHash: [UInt8]] = [:]
        for chunk in chunks {
            guard case .document(let bytes) = chunk else { continue }
            for change in try DocumentChunk(bytes).rebuildChanges(limits: limits) { rebuilt[change.chunk.hash] = change.chunk.bytes }
        }
        var expected: [ChangeHash: [UInt8]] = [:]
        for chunk in try ChunkReader.readAll(try Fixtures.bytes(name + ".changes")) {
            if case .change(let change) = chunk { expected[change.hash] = change.bytes }
        }
        #expect(rebuilt.count == expected.count)
        for (hash, bytes) in expected { #expect(rebuilt[hash] == bytes, "\(path): change \(hash) differs") }
        let meta = try Fixtures.json(name + ".meta.json")
        let heads = try DocumentChunk(chunks.compactMap { if case .document(let d) = $0 { d } else { nil } }[0]).heads
        #expect(heads.map(\.hex) == (meta["heads"] as? [String]) ?? [])
    }
}

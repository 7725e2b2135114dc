import AutomergeCore
import Foundation
import Testing

@testable import AutomergeRepo

/// The NodeFS directories written by the reference server and a NodeFS client (`nodefs/manifest.json`).
@Suite(.enabled(if: Fixtures.nodefsAvailable, Fixtures.skipMessage))
struct NodeFSFixtureTests {
    private struct Side {
        let directory: URL
        let files: [JSONValue]
        let documents: [(String, JSONValue)]
        let storageAdapterId: String
    }

    private func sides() throws -> [Side] {
        let text = try String(contentsOf: Fixtures.nodefs.appendingPathComponent("manifest.json"), encoding: .utf8)
        let manifest = try JSONValue.parse(text)
        return try ["server", "client"].map { name in
            guard case .object(let side)? = manifest[name], case .string(let directory)? = manifest[name]?["directory"],
                case .array(let files)? = manifest[name]?["files"], case .object(let documents)? = manifest[name]?["documents"],
                case .string(let storageId)? = manifest[name]?["storageAdapterId"], !side.isEmpty
            else { throw FixtureError.malformed("manifest \(name)") }
            return Side(
                directory: Fixtures.nodefs.appendingPathComponent(directory, isDirectory: true),
                files: files,
                documents: documents,
                storageAdapterId: storageId
            )
        }
    }

    private func read(_ side: Side, _ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: side.directory.appendingPathComponent(path)))
    }

    /// Every listed file: the key maps to its path and back, and its name is the JS key hash.
    @Test func everyFileMatchesItsKeyAndName() throws {
        var checkedNames = 0
        for side in try sides() {
            for file in side.files {
                guard case .string(let kind)? = file["kind"], case .string(let path)? = file["path"] else {
                    throw FixtureError.malformed("file entry")
                }
                let bytes = try read(side, path)
                if case .string(let sha)? = file["sha256"] { #expect(NodeFSKeyHash.incrementalName(for: bytes) == sha) }
                let key: StorageKey
                if kind == "storage-adapter-id" {
                    key = .storageAdapterId
                    #expect(String(decoding: bytes, as: UTF8.self) == side.storageAdapterId)
                } else {
                    guard case .array(let parts)? = file["key"] else { throw FixtureError.malformed("key of \(path)") }
                    let components = parts.compactMap { part -> String? in
                        if case .string(let s) = part { return s }
                        return nil
                    }
                    key = try StorageKey(components)
                    let chunk = try #require(key.documentChunk, "\(path)")
                    #expect(chunk.kind.rawValue == kind)
                    switch chunk.kind {
                    case .incremental:
                        #expect(NodeFSKeyHash.incrementalName(for: bytes) == chunk.name, "\(path)")
                        checkedNames += 1
                    case .snapshot:
                        // The name is the hash of the heads stored in the snapshot's own document chunk header.
                        let heads = try documentChunkHeads(bytes)
                        #expect(NodeFSKeyHash.snapshotName(heads: heads) == chunk.name, "\(path)")
                        checkedNames += 1
                    case .syncState:
                        #expect(chunk.name.count == 36)
                    }
                    if let nameCheck = file["nameCheck"] { #expect(nameCheck["matches"] == .bool(true)) }
                }
                #expect(key.relativePath == path)
                #expect(try StorageKey(relativePath: path) == key)
            }
        }
        #expect(checkedNames == 20)
    }

    /// A document whose snapshot is current is named by its manifest heads too.
    @Test func currentSnapshotsAreNamedByDocumentHeads() throws {
        var matched = 0
        for side in try sides() {
            for (documentId, document) in side.documents {
                let id = try DocumentId(documentId)
                guard case .array(let headValues)? = document["heads"], case .array(let snapshots)? = document["snapshots"],
                    case .array(let incrementals)? = document["incrementals"], incrementals.isEmpty, snapshots.count == 1,
                    case .string(let snapshotPath) = snapshots[0]
                else { continue }
                let heads = headValues.compactMap { value -> String? in
                    if case .string(let s) = value { return s }
                    return nil
                }
                let key = try StorageKey.chunk(id, .snapshot, name: NodeFSKeyHash.snapshotName(hexHeads: heads))
                #expect(key.relativePath == snapshotPath)
                matched += 1
            }
        }
        #expect(matched >= 4)
    }

    /// Every file actually on disk is a valid key and is listed in the manifest.
    @Test func everyFileOnDiskIsAValidKey() throws {
        for side in try sides() {
            let listed = Set(
                side.files.compactMap { file -> String? in
                    if case .string(let path)? = file["path"] { return path }
                    return nil
                }
            )
            let enumerator = try #require(FileManager.default.enumerator(atPath: side.directory.path))
            var onDisk = Set<String>()
            while let relative = enumerator.nextObject() as? String {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: side.directory.appendingPathComponent(relative).path, isDirectory: &isDirectory),
                    !isDirectory.boolValue
                else { continue }
                let key = try StorageKey(relativePath: relative)
                #expect(key == .storageAdapterId || key.documentChunk != nil, "\(relative)")
                onDisk.insert(relative)
            }
            #expect(onDisk == listed)
        }
    }

    /// The heads in an Automerge document chunk header: magic, checksum, type 0, length, actors, heads.
    private func documentChunkHeads(_ bytes: [UInt8]) throws -> [ChangeHash] {
        var reader = ByteReader(bytes)
        #expect(try reader.readBytes(4) == [0x85, 0x6f, 0x4a, 0x83])
        _ = try reader.readBytes(4)
        #expect(try reader.readByte() == 0)
        _ = try reader.readULEB()
        _ = try reader.readActorArray("actors")
        return try reader.readHashArray("heads")
    }
}

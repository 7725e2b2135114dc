import AutomergeCore
import ByteEncodings

/// Describes Automerge files (documents, changes, concatenations, sync messages) as JSON.
struct Inspector {
    var includeChanges = false

    /// The JSON description of one file's bytes.
    func describe(file: String, bytes: [UInt8]) throws(AutomergeError) -> AutomergeJSON {
        if let first = bytes.first, first == 0x42 || first == 0x43 {
            return try describeSyncMessage(file: file, bytes: bytes)
        }
        var graph = ChangeGraph(retainingChanges: false)
        let summary = try graph.load(bytes)
        var fields: [(String, AutomergeJSON)] = [
            ("file", .string(file)),
            (
                "chunks",
                .object([
                    ("document", .int(Int64(summary.chunks.document))),
                    ("change", .int(Int64(summary.chunks.change))),
                    ("compressed", .int(Int64(summary.chunks.compressed))),
                ])
            ),
            ("changes", .int(Int64(graph.count + graph.queuedCount))),
            ("heads", .array(graph.heads.map { .string($0.hex) })),
            ("actors", .int(Int64(graph.actorCount))),
        ]
        let missing = graph.missingDeps
        if !missing.isEmpty {
            fields.append(("queued", .int(Int64(graph.queuedCount))))
            fields.append(("missingDeps", .array(missing.map { .string($0.hex) })))
        }
        if includeChanges {
            let changes = graph.allHashes.compactMap { graph.metadata(for: $0) }
            fields.append(("changeList", .array(changes.map(Self.describe))))
        }
        return .object(fields)
    }

    static func describe(_ change: ChangeMetadata) -> AutomergeJSON {
        .object([
            ("hash", .string(change.hash.hex)),
            ("deps", .array(change.deps.map { .string($0.hex) })),
            ("actor", .string(change.actor.hex)),
            ("seq", .uint(change.seq)),
            ("startOp", .uint(change.startOp)),
            ("maxOp", .uint(change.maxOp)),
            ("time", .int(change.time)),
            ("message", change.message.map(AutomergeJSON.string) ?? .null),
        ])
    }

    /// A sync message: its decoded fields, and per `changes` entry the chunks it carries. Bytes
    /// starting with 0x43 that are not a sync message are tried as a persisted sync state.
    func describeSyncMessage(file: String, bytes: [UInt8]) throws(AutomergeError) -> AutomergeJSON {
        let message: SyncMessage
        do throws(AutomergeError) {
            message = try SyncMessage.decode(bytes)
        } catch {
            guard bytes.first == SyncStateCodec.typeByte, let sharedHeads = try? SyncStateCodec.decode(bytes) else { throw error }
            return .object([
                ("file", .string(file)),
                ("kind", .string("sync-state")),
                ("sharedHeads", .array(sharedHeads.map { .string($0.hex) })),
            ])
        }
        var entries: [AutomergeJSON] = []
        for entry in message.changes {
            var graph = ChangeGraph(retainingChanges: false)
            let summary = try graph.load(entry)
            var fields: [(String, AutomergeJSON)] = [
                ("bytes", .int(Int64(entry.count))),
                (
                    "chunks",
                    .object([
                        ("document", .int(Int64(summary.chunks.document))),
                        ("change", .int(Int64(summary.chunks.change))),
                        ("compressed", .int(Int64(summary.chunks.compressed))),
                    ])
                ),
                ("changes", .int(Int64(graph.count + graph.queuedCount))),
            ]
            if includeChanges {
                fields.append(("changeList", .array(summary.result.applied.compactMap { graph.metadata(for: $0) }.map(Self.describe))))
            }
            entries.append(.object(fields))
        }
        let have: [AutomergeJSON] = message.have.map { have in
            .object([
                ("lastSync", .array(have.lastSync.map { .string($0.hex) })),
                ("bloomEntries", .int(Int64(have.bloom.numEntries))),
                ("bloom", .string(Hex.encode(have.bloom.bytes))),
            ])
        }
        var flags: [AutomergeJSON] = []
        if message.flags.contains(.syncReset) { flags.append(.string("syncReset")) }
        if message.flags.contains(.readOnly) { flags.append(.string("readOnly")) }
        if message.flags.contains(.supportsSyncReset) { flags.append(.string("supportsSyncReset")) }
        return .object([
            ("file", .string(file)),
            ("kind", .string("sync-message")),
            ("version", .string(message.version == .v1 ? "v1" : "v2")),
            ("heads", .array(message.heads.map { .string($0.hex) })),
            ("need", .array(message.need.map { .string($0.hex) })),
            ("have", .array(have)),
            ("changes", .array(entries)),
            ("trailer", message.trailer.map { .string(Hex.encode($0.rawBytes)) } ?? .null),
            ("flags", .array(flags)),
        ])
    }
}

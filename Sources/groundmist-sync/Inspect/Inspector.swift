import AutomergeCore

/// Describes Automerge files (documents, changes, concatenations, sync messages) as JSON.
struct Inspector {
    var includeChanges = false

    /// The JSON description of one file's bytes.
    func describe(file: String, bytes: [UInt8]) throws(AutomergeError) -> JSONValue {
        if let first = bytes.first, first == 0x42 || first == 0x43 {
            return try describeSyncMessage(file: file, bytes: bytes)
        }
        var graph = ChangeGraph(retainingChanges: false)
        let summary = try graph.load(bytes)
        var fields: [(String, JSONValue)] = [
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

    static func describe(_ change: ChangeMetadata) -> JSONValue {
        .object([
            ("hash", .string(change.hash.hex)),
            ("deps", .array(change.deps.map { .string($0.hex) })),
            ("actor", .string(change.actor.hex)),
            ("seq", .uint(change.seq)),
            ("startOp", .uint(change.startOp)),
            ("maxOp", .uint(change.maxOp)),
            ("time", .int(change.time)),
            ("message", change.message.map(JSONValue.string) ?? .null),
        ])
    }

    func describeSyncMessage(file: String, bytes: [UInt8]) throws(AutomergeError) -> JSONValue {
        throw .invalidSyncMessage("sync messages are not supported yet")
    }
}

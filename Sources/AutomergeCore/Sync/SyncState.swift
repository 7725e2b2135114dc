/// What one side knows about one peer for one document (docs/sync-protocol.md §4).
package struct SyncState: Sendable, Equatable {
    /// Heads we believe both sides have.
    package var sharedHeads: [ChangeHash] = []
    /// Our heads in the last message we sent.
    package var lastSentHeads: [ChangeHash] = []
    /// Their last advertised heads (nil = unknown).
    package var theirHeads: [ChangeHash]?
    /// Their last `need` (nil = unknown).
    package var theirNeed: [ChangeHash]?
    /// Their last `have` (nil = unknown).
    package var theirHave: [SyncHave]?
    /// Hashes sent during this session.
    package var sentHashes: Set<ChangeHash> = []
    /// A message was sent and no reply has arrived yet.
    package var inFlight = false
    /// We have sent at least one message.
    package var haveResponded = false
    /// nil until the peer sends a trailer; then whether it also supports SYNC_RESET.
    package var theirCapabilities: Capabilities?
    /// We ignore incoming changes.
    package var readOnly = false
    /// The peer ignores our changes.
    package var peerReadOnly = false
    /// Send SYNC_RESET (or empty heads to old peers) on the next message.
    package var needsReset = false

    /// What the peer's trailer told us. Any trailer at all means "supports V2 messages".
    package struct Capabilities: Sendable, Equatable {
        package var supportsSyncReset: Bool
        package init(supportsSyncReset: Bool) { self.supportsSyncReset = supportsSyncReset }
    }

    package init() {}

    /// The persisted form: `0x43` and the shared heads. Everything else is per session.
    package func encode() -> [UInt8] { SyncStateCodec.encode(sharedHeads: sharedHeads) }

    /// Restores a persisted state. As the reference does, `theirHave` becomes an empty list
    /// (not unknown) while their heads and need stay unknown.
    package init(decoding bytes: [UInt8]) throws(AutomergeError) {
        sharedHeads = try SyncStateCodec.decode(bytes)
        theirHave = []
    }

    package var peerSupportsV2: Bool { theirCapabilities != nil }
}

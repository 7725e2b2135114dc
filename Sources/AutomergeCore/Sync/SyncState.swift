/// What one side knows about one peer for one document (docs/sync-protocol.md §4).
public struct SyncState: Sendable, Equatable {
    /// Heads we believe both sides have.
    public var sharedHeads: [ChangeHash] = []
    /// Our heads in the last message we sent.
    public var lastSentHeads: [ChangeHash] = []
    /// Their last advertised heads (nil = unknown).
    public var theirHeads: [ChangeHash]?
    /// Their last `need` (nil = unknown).
    public var theirNeed: [ChangeHash]?
    /// Their last `have` (nil = unknown).
    public var theirHave: [SyncHave]?
    /// Hashes sent during this session.
    public var sentHashes: Set<ChangeHash> = []
    /// A message was sent and no reply has arrived yet.
    public var inFlight = false
    /// We have sent at least one message.
    public var haveResponded = false
    /// nil until the peer sends a trailer; then whether it also supports SYNC_RESET.
    public var theirCapabilities: Capabilities?
    /// We ignore incoming changes.
    public var readOnly = false
    /// The peer ignores our changes.
    public var peerReadOnly = false
    /// Send SYNC_RESET (or empty heads to old peers) on the next message.
    public var needsReset = false

    /// What the peer's trailer told us. Any trailer at all means "supports V2 messages".
    public struct Capabilities: Sendable, Equatable {
        public var supportsSyncReset: Bool
        public init(supportsSyncReset: Bool) { self.supportsSyncReset = supportsSyncReset }
    }

    public init() {}

    /// The persisted form: `0x43` and the shared heads. Everything else is per session.
    public func encode() -> [UInt8] { SyncStateCodec.encode(sharedHeads: sharedHeads) }

    /// Restores a persisted state. As the reference does, `theirHave` becomes an empty list
    /// (not unknown) while their heads and need stay unknown.
    public init(decoding bytes: [UInt8]) throws(AutomergeError) {
        sharedHeads = try SyncStateCodec.decode(bytes)
        theirHave = []
    }

    public var peerSupportsV2: Bool { theirCapabilities != nil }
}

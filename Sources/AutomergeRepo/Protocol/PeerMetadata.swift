/// What a peer tells about itself in `join` / `peer`.
package struct PeerMetadata: Hashable, Sendable {
    /// The peer's storage id (a UUID string) when it has storage; sync state is persisted under it.
    package var storageId: String?
    /// True for peers without storage; their sync state is never persisted. An absent value (an adapter
    /// connected without metadata sends `{}`) reads as `false`, as it is falsy in JS.
    package var isEphemeral: Bool

    package init(storageId: String?, isEphemeral: Bool) {
        self.storageId = storageId
        self.isEphemeral = isEphemeral
    }

    init(cbor value: CBORValue, messageType: String, field: String) throws(RepoMessageError) {
        guard case .map(let entries) = value else {
            throw .wrongFieldType(messageType: messageType, field: field, expected: "a map", found: value.kindName)
        }
        let fields = MessageFields(messageType: messageType, entries: entries)
        self.storageId = try fields.optionalText("storageId")
        self.isEphemeral = try fields.optionalBool("isEphemeral") ?? false
    }

    /// `{storageId, isEphemeral}` in that order; a missing storage id is written as CBOR `undefined`,
    /// as cbor-x does for a JS property that is present but unset.
    var cbor: CBORValue {
        .map([
            CBORMapEntry("storageId", storageId.map(CBORValue.text) ?? .undefined),
            CBORMapEntry("isEphemeral", .bool(isEphemeral)),
        ])
    }
}

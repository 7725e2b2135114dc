/// `join`: the first message a client sends.
package struct JoinMessage: Hashable, Sendable {
    package var senderId: String
    /// Absent from 1.0.x clients. Also read from `metadata`, the key the protocol README uses.
    package var peerMetadata: PeerMetadata?
    /// `nil` when missing (pre-versioning clients: treat as `["1"]`). automerge-repo-swift sends the plain
    /// string `"1"`, which is read as `["1"]` (the JS server's `.includes("1")` accepts both).
    package var supportedProtocolVersions: [String]?

    package init(senderId: String, peerMetadata: PeerMetadata?, supportedProtocolVersions: [String]?) {
        self.senderId = senderId
        self.peerMetadata = peerMetadata
        self.supportedProtocolVersions = supportedProtocolVersions
    }

    /// Whether the client can speak protocol `version`; a join without a version list predates versioning
    /// and speaks "1".
    package func supports(version: String) -> Bool {
        guard let versions = supportedProtocolVersions else { return version == "1" }
        return versions.contains(version)
    }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
        if let metadata = fields.optional("peerMetadata") {
            peerMetadata = try PeerMetadata(cbor: metadata, messageType: fields.messageType, field: "peerMetadata")
        } else if let metadata = fields.optional("metadata") {
            peerMetadata = try PeerMetadata(cbor: metadata, messageType: fields.messageType, field: "metadata")
        } else {
            peerMetadata = nil
        }
        switch fields.optional("supportedProtocolVersions") {
        case nil: supportedProtocolVersions = nil
        case .text(let single)?: supportedProtocolVersions = [single]
        case let value?:
            supportedProtocolVersions = try MessageFields.textArray(value, field: "supportedProtocolVersions", messageType: fields.messageType)
        }
    }

    /// JS client order: type, senderId, peerMetadata, supportedProtocolVersions (absent ones omitted).
    var entries: [CBORMapEntry] {
        var entries = [CBORMapEntry("type", .text(RepoMessage.Kind.join.rawValue)), CBORMapEntry("senderId", .text(senderId))]
        if let peerMetadata { entries.append(CBORMapEntry("peerMetadata", peerMetadata.cbor)) }
        if let versions = supportedProtocolVersions {
            entries.append(CBORMapEntry("supportedProtocolVersions", .array(versions.map(CBORValue.text))))
        }
        return entries
    }
}

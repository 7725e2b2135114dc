/// `peer`: the server's answer to `join`.
package struct PeerMessage: Hashable, Sendable {
    package var senderId: String
    package var peerMetadata: PeerMetadata
    package var selectedProtocolVersion: String
    package var targetId: String

    package init(senderId: String, peerMetadata: PeerMetadata, selectedProtocolVersion: String = "1", targetId: String) {
        self.senderId = senderId
        self.peerMetadata = peerMetadata
        self.selectedProtocolVersion = selectedProtocolVersion
        self.targetId = targetId
    }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
        let metadata = fields.optional("peerMetadata") ?? fields.optional("metadata")
        peerMetadata =
            try metadata.map { value throws(RepoMessageError) in
                try PeerMetadata(cbor: value, messageType: fields.messageType, field: "peerMetadata")
            } ?? PeerMetadata(storageId: nil, isEphemeral: false)
        selectedProtocolVersion = try fields.text("selectedProtocolVersion")
        targetId = try fields.text("targetId")
    }

    /// Reference server order: type, senderId, peerMetadata, selectedProtocolVersion, targetId.
    var entries: [CBORMapEntry] {
        [
            CBORMapEntry("type", .text(RepoMessage.Kind.peer.rawValue)),
            CBORMapEntry("senderId", .text(senderId)),
            CBORMapEntry("peerMetadata", peerMetadata.cbor),
            CBORMapEntry("selectedProtocolVersion", .text(selectedProtocolVersion)),
            CBORMapEntry("targetId", .text(targetId)),
        ]
    }
}

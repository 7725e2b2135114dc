/// `remote-heads-changed`: the heads some storage id has for a document, relayed one hop.
///
/// The README says `timestamp` is a uint and heads are base64; the captures show float64 timestamps and
/// bs58check heads from 2.x (hex from 1.x). Fixtures win: timestamps are read from either numeric form and
/// heads are kept as opaque strings.
package struct RemoteHeadsChangedMessage: Hashable, Sendable {
    /// One `newHeads` entry.
    package struct Entry: Hashable, Sendable {
        package var storageId: String
        package var heads: [String]
        /// Milliseconds since the epoch on the node that observed the heads.
        package var timestamp: Double

        package init(storageId: String, heads: [String], timestamp: Double) {
            self.storageId = storageId
            self.heads = heads
            self.timestamp = timestamp
        }
    }

    package var senderId: String
    package var targetId: String
    package var documentId: String
    /// In wire order.
    package var newHeads: [Entry]

    package init(senderId: String, targetId: String, documentId: String, newHeads: [Entry]) {
        self.senderId = senderId
        self.targetId = targetId
        self.documentId = documentId
        self.newHeads = newHeads
    }

    init(fields: MessageFields) throws(RepoMessageError) {
        senderId = try fields.text("senderId")
        targetId = try fields.text("targetId")
        documentId = try fields.text("documentId")
        let type = fields.messageType
        let value = try fields.required("newHeads")
        guard case .map(let mapEntries) = value else { throw fields.wrongType("newHeads", "a map", value) }
        var entries: [Entry] = []
        for mapEntry in mapEntries {
            guard case .text(let storageId) = mapEntry.key else {
                throw .wrongFieldType(messageType: type, field: "newHeads", expected: "text storage id keys", found: mapEntry.key.kindName)
            }
            guard case .map(let inner) = mapEntry.value else {
                throw .wrongFieldType(messageType: type, field: "newHeads.\(storageId)", expected: "a map", found: mapEntry.value.kindName)
            }
            let innerFields = MessageFields(messageType: type, entries: inner)
            let heads = try MessageFields.textArray(innerFields.required("heads"), field: "heads", messageType: type)
            let stamp = try innerFields.required("timestamp")
            guard let timestamp = stamp.numericValue else { throw innerFields.wrongType("timestamp", "a number", stamp) }
            guard timestamp.isFinite else { throw .invalidNumber(messageType: type, field: "timestamp") }
            entries.append(Entry(storageId: storageId, heads: heads, timestamp: timestamp))
        }
        newHeads = entries
    }

    /// Reference order: type, targetId, documentId, newHeads {storageId: {heads, timestamp}}, senderId.
    var entries: [CBORMapEntry] {
        let heads = newHeads.map { entry in
            CBORMapEntry(
                entry.storageId,
                .map([CBORMapEntry("heads", .array(entry.heads.map(CBORValue.text))), CBORMapEntry("timestamp", jsNumber(entry.timestamp))])
            )
        }
        return [
            CBORMapEntry("type", .text(RepoMessage.Kind.remoteHeadsChanged.rawValue)),
            CBORMapEntry("targetId", .text(targetId)),
            CBORMapEntry("documentId", .text(documentId)),
            CBORMapEntry("newHeads", .map(heads)),
            CBORMapEntry("senderId", .text(senderId)),
        ]
    }
}

/// A JS number the way cbor-x writes it: an unsigned int when it is a whole number below 2^32, else float64.
func jsNumber(_ value: Double) -> CBORValue {
    if value >= 0, value <= Double(UInt32.max), value.rounded(.towardZero) == value { return .unsigned(UInt64(value)) }
    return .float64(value)
}

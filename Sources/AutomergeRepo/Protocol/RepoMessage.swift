/// One automerge-repo WebSocket message (protocol "1", identical in automerge-repo 1.x and 2.x).
package enum RepoMessage: Hashable, Sendable {
    case join(JoinMessage)
    case peer(PeerMessage)
    case leave(LeaveMessage)
    case error(RepoErrorMessage)
    case sync(DocumentSyncMessage)
    case request(DocumentSyncMessage)
    case docUnavailable(DocUnavailableMessage)
    case ephemeral(EphemeralMessage)
    case remoteSubscriptionChange(RemoteSubscriptionChangeMessage)
    case remoteHeadsChanged(RemoteHeadsChangedMessage)
    /// A map whose `type` is not one of the above; JS drops these, so a server ignores them. `entries`
    /// is the whole map in wire order (including `type`), so it re-encodes unchanged.
    case unknown(type: String, entries: [CBORMapEntry])

    /// The wire names of the known types.
    package enum Kind: String, Sendable, CaseIterable {
        case join
        case peer
        case leave
        case error
        case sync
        case request
        case docUnavailable = "doc-unavailable"
        case ephemeral
        case remoteSubscriptionChange = "remote-subscription-change"
        case remoteHeadsChanged = "remote-heads-changed"
    }

    /// Decodes one WebSocket binary message.
    package init(decoding bytes: [UInt8], decoder: CBORDecoder = CBORDecoder()) throws(RepoMessageError) {
        let value: CBORValue
        do {
            value = try decoder.decode(bytes)
        } catch {
            throw .cbor(error)
        }
        try self.init(cbor: value)
    }

    /// Interprets a decoded item. Optional fields may be absent, `null` or `undefined`; unknown keys are ignored.
    package init(cbor value: CBORValue) throws(RepoMessageError) {
        guard case .map(let entries) = value else { throw .notAMap(found: value.kindName) }
        let untyped = MessageFields(messageType: "", entries: entries)
        guard case .text(let type)? = untyped.optional("type") else { throw .missingType }
        guard let kind = Kind(rawValue: type) else {
            self = .unknown(type: type, entries: entries)
            return
        }
        let fields = MessageFields(messageType: type, entries: entries)
        switch kind {
        case .join: self = .join(try JoinMessage(fields: fields))
        case .peer: self = .peer(try PeerMessage(fields: fields))
        case .leave: self = .leave(try LeaveMessage(fields: fields))
        case .error: self = .error(try RepoErrorMessage(fields: fields))
        case .sync: self = .sync(try DocumentSyncMessage(fields: fields))
        case .request: self = .request(try DocumentSyncMessage(fields: fields))
        case .docUnavailable: self = .docUnavailable(try DocUnavailableMessage(fields: fields))
        case .ephemeral: self = .ephemeral(try EphemeralMessage(fields: fields))
        case .remoteSubscriptionChange: self = .remoteSubscriptionChange(try RemoteSubscriptionChangeMessage(fields: fields))
        case .remoteHeadsChanged: self = .remoteHeadsChanged(try RemoteHeadsChangedMessage(fields: fields))
        }
    }

    /// The `type` field.
    package var type: String {
        switch self {
        case .join: return Kind.join.rawValue
        case .peer: return Kind.peer.rawValue
        case .leave: return Kind.leave.rawValue
        case .error: return Kind.error.rawValue
        case .sync: return Kind.sync.rawValue
        case .request: return Kind.request.rawValue
        case .docUnavailable: return Kind.docUnavailable.rawValue
        case .ephemeral: return Kind.ephemeral.rawValue
        case .remoteSubscriptionChange: return Kind.remoteSubscriptionChange.rawValue
        case .remoteHeadsChanged: return Kind.remoteHeadsChanged.rawValue
        case .unknown(let type, _): return type
        }
    }

    /// The author's peer id, when the message has one.
    package var senderId: String? {
        switch self {
        case .join(let m): return m.senderId
        case .peer(let m): return m.senderId
        case .leave(let m): return m.senderId
        case .error(let m): return m.senderId
        case .sync(let m), .request(let m): return m.senderId
        case .docUnavailable(let m): return m.senderId
        case .ephemeral(let m): return m.senderId
        case .remoteSubscriptionChange(let m): return m.senderId
        case .remoteHeadsChanged(let m): return m.senderId
        case .unknown(_, let entries): return CBORValue.map(entries)["senderId"]?.textValue
        }
    }

    /// The recipient's peer id, when the message has one.
    package var targetId: String? {
        switch self {
        case .join, .leave: return nil
        case .peer(let m): return m.targetId
        case .error(let m): return m.targetId
        case .sync(let m), .request(let m): return m.targetId
        case .docUnavailable(let m): return m.targetId
        case .ephemeral(let m): return m.targetId
        case .remoteSubscriptionChange(let m): return m.targetId
        case .remoteHeadsChanged(let m): return m.targetId
        case .unknown(_, let entries): return CBORValue.map(entries)["targetId"]?.textValue
        }
    }

    /// The unvalidated `documentId` string of document-scoped messages; parse it with `DocumentId` before
    /// it touches storage.
    package var documentId: String? {
        switch self {
        case .sync(let m), .request(let m): return m.documentId
        case .docUnavailable(let m): return m.documentId
        case .ephemeral(let m): return m.documentId
        case .remoteHeadsChanged(let m): return m.documentId
        default: return nil
        }
    }

    /// The message as a CBOR map, fields in the order the JS reference sends them.
    package var cbor: CBORValue {
        switch self {
        case .join(let m): return .map(m.entries)
        case .peer(let m): return .map(m.entries)
        case .leave(let m): return .map(m.entries)
        case .error(let m): return .map(m.entries)
        case .sync(let m): return .map(m.entries(kind: .sync))
        case .request(let m): return .map(m.entries(kind: .request))
        case .docUnavailable(let m): return .map(m.entries)
        case .ephemeral(let m): return .map(m.entries)
        case .remoteSubscriptionChange(let m): return .map(m.entries)
        case .remoteHeadsChanged(let m): return .map(m.entries)
        case .unknown(_, let entries): return .map(entries)
        }
    }

    /// The bytes of one WebSocket binary message. The default encoder writes shortest-form map heads,
    /// which every CBOR decoder accepts; `CBOREncoder(mapHeaderStyle: .cborX)` reproduces cbor-x's bytes.
    package func encoded(with encoder: CBOREncoder = CBOREncoder()) -> [UInt8] {
        encoder.encode(cbor)
    }
}

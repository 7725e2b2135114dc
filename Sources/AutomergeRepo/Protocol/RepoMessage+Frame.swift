package import NIOCore

extension RepoMessage {
    /// Byte strings at least this large are left in the frame while it is decoded.
    static let inPlaceByteStringSize = 1 << 16

    /// Decodes one WebSocket binary message as the transport received it, without copying it.
    ///
    /// An `ephemeral` payload of `inPlaceByteStringSize` bytes or more stays a slice of `frame`: a
    /// relay copies it only into the messages it sends, so an 8 MiB payload nobody is sent is never
    /// held twice (issue 14, attack (c)). Any other message with such a byte string is decoded a
    /// second time, copying its byte strings as `init(decoding:)` for an array does.
    package init(decoding frame: ByteBuffer, decoder: CBORDecoder = CBORDecoder()) throws(RepoMessageError) {
        var strings: [Range<Int>?] = []
        let decoded: Result<CBORValue, CBORError> = frame.withUnsafeReadableBytes { raw in
            do throws(CBORError) {
                return .success(try decoder.decode(raw, leavingInPlace: Self.inPlaceByteStringSize, strings: &strings))
            } catch {
                return .failure(error)
            }
        }
        let value: CBORValue
        switch decoded {
        case .success(let decodedValue): value = decodedValue
        case .failure(let error): throw .cbor(error)
        }
        guard strings.contains(where: { $0 != nil }) else {
            try self.init(cbor: value)
            return
        }
        if case .map(let entries) = value, MessageFields(messageType: "", entries: entries).optional("type") == .text(Kind.ephemeral.rawValue) {
            // Only `data` of an ephemeral's fields is a byte string; other keys are ignored.
            var message = try EphemeralMessage(fields: MessageFields(messageType: Kind.ephemeral.rawValue, entries: entries))
            if let range = Self.inPlaceRange(ofLast: "data", in: entries, strings: strings),
                let slice = frame.getSlice(at: frame.readerIndex + range.lowerBound, length: range.count)
            {
                message.payload = MessagePayload(frameSlice: slice)
            }
            self = .ephemeral(message)
            return
        }
        let copied: Result<CBORValue, CBORError> = frame.withUnsafeReadableBytes { raw in
            do throws(CBORError) {
                return .success(try decoder.decode(raw, leavingInPlace: nil, strings: &strings))
            } catch {
                return .failure(error)
            }
        }
        switch copied {
        case .success(let copiedValue): try self.init(cbor: copiedValue)
        case .failure(let error): throw .cbor(error)
        }
    }

    /// The range in the frame of the value of the last `key` entry (the one `MessageFields` reads),
    /// when it is a byte string left in place.
    static func inPlaceRange(ofLast key: String, in entries: [CBORMapEntry], strings: [Range<Int>?]) -> Range<Int>? {
        var index = 0
        var found: Range<Int>?
        for entry in entries {
            index += byteStringCount(entry.key)
            if entry.key == .text(key) {
                found = nil
                if case .bytes = entry.value, index < strings.count { found = strings[index] }
            }
            index += byteStringCount(entry.value)
        }
        return found
    }

    /// The byte strings in `value`, in the order the decoder reads them.
    private static func byteStringCount(_ value: CBORValue) -> Int {
        switch value {
        case .bytes: return 1
        case .array(let items): return items.reduce(0) { $0 + byteStringCount($1) }
        case .map(let entries): return entries.reduce(0) { $0 + byteStringCount($1.key) + byteStringCount($1.value) }
        case .tagged(_, let inner): return byteStringCount(inner)
        default: return 0
        }
    }
}

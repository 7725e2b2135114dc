/// A strict, bounded CBOR decoder for untrusted input (one WebSocket message = one item).
///
/// Every length encoding is accepted (cbor-x writes maps as `b9 00 nn`), as are indefinite-length items.
/// Hostile input cannot make it allocate more than the input size (declared lengths and element counts are
/// checked against the remaining bytes first) or recurse deeper than `maxDepth`; all work is linear in the
/// input length.
package struct CBORDecoder: Sendable {
    /// Maximum nesting of arrays, maps and tags. The protocol needs 4 (`newHeads` → entry → `heads`).
    package var maxDepth: Int
    /// Maximum input size in bytes; the reference `ws` server allows 100 MiB messages.
    package var maxInputSize: Int

    package init(maxDepth: Int = 64, maxInputSize: Int = 256 * 1024 * 1024) {
        self.maxDepth = maxDepth
        self.maxInputSize = maxInputSize
    }

    /// Decodes exactly one item; bytes after it are an error.
    package func decode(_ bytes: [UInt8]) throws(CBORError) -> CBORValue {
        var strings: [Range<Int>?] = []
        let result: Result<CBORValue, CBORError> = bytes.withUnsafeBytes { raw in
            do throws(CBORError) {
                return .success(try decode(raw, leavingInPlace: nil, strings: &strings))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Decodes exactly one item from `bytes`. Byte strings of `leavingInPlace` bytes or more (definite
    /// length) are not copied: each decodes as an empty `.bytes`, and `strings` gets one element per
    /// byte string of the item, in wire order (the order of a pre-order walk, keys before values): its
    /// range in `bytes` when it was left in place, nil otherwise.
    package func decode(_ bytes: UnsafeRawBufferPointer, leavingInPlace: Int?, strings: inout [Range<Int>?]) throws(CBORError) -> CBORValue {
        guard bytes.count <= maxInputSize else { throw .inputTooLarge(size: bytes.count, limit: maxInputSize) }
        var cursor = Cursor(bytes: bytes, maxDepth: maxDepth, leavingInPlace: leavingInPlace)
        let value = try cursor.readItem(depth: 0)
        if cursor.offset < bytes.count {
            throw .trailingBytes(offset: cursor.offset, count: bytes.count - cursor.offset)
        }
        strings = cursor.strings
        return value
    }

    /// Convenience for the default limits.
    package static func decode(_ bytes: [UInt8]) throws(CBORError) -> CBORValue {
        try CBORDecoder().decode(bytes)
    }
}

/// The reading state; `mutating` methods advance `offset`.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    /// Byte strings at least this long are left in place (see `CBORDecoder.decode(_:leavingInPlace:strings:)`).
    let leavingInPlace: Int?
    var offset = 0
    /// Every byte string read, in wire order: its range when left in place.
    var strings: [Range<Int>?] = []

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int, leavingInPlace: Int?) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.leavingInPlace = leavingInPlace
    }

    var remaining: Int { bytes.count - offset }

    /// What an initial byte says: major type, and either a definite argument or "indefinite".
    struct Head {
        let start: Int
        let initialByte: UInt8
        let majorType: UInt8
        /// `nil` for additional information 31.
        let argument: UInt64?
    }

    mutating func readByte() throws(CBORError) -> UInt8 {
        guard offset < bytes.count else { throw .unexpectedEnd(offset: offset, needed: 1) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readBigEndian(_ count: Int) throws(CBORError) -> UInt64 {
        guard remaining >= count else { throw .unexpectedEnd(offset: offset, needed: count - remaining) }
        var value: UInt64 = 0
        for index in offset..<(offset + count) {
            value = value << 8 | UInt64(bytes[index])
        }
        offset += count
        return value
    }

    mutating func readHead() throws(CBORError) -> Head {
        let start = offset
        let initial = try readByte()
        let major = initial >> 5
        let info = initial & 0x1f
        let argument: UInt64?
        switch info {
        case 0...23: argument = UInt64(info)
        case 24: argument = try readBigEndian(1)
        case 25: argument = try readBigEndian(2)
        case 26: argument = try readBigEndian(4)
        case 27: argument = try readBigEndian(8)
        case 28...30: throw .reservedAdditionalInfo(offset: start, initialByte: initial)
        default: argument = nil
        }
        return Head(start: start, initialByte: initial, majorType: major, argument: argument)
    }

    /// Checks a declared length (or element count × minimum element size) against the remaining input.
    func checkedLength(_ declared: UInt64, minimumItemSize: Int, at start: Int) throws(CBORError) -> Int {
        let available = remaining
        guard declared <= UInt64(available / minimumItemSize) else {
            throw .lengthExceedsInput(offset: start, declared: declared, available: available)
        }
        return Int(declared)
    }

    mutating func readItem(depth: Int) throws(CBORError) -> CBORValue {
        let head = try readHead()
        switch head.majorType {
        case 0:
            guard let n = head.argument else { throw .indefiniteLengthNotAllowed(offset: head.start, initialByte: head.initialByte) }
            return .unsigned(n)
        case 1:
            guard let n = head.argument else { throw .indefiniteLengthNotAllowed(offset: head.start, initialByte: head.initialByte) }
            return .negative(n)
        case 2:
            if let minimum = leavingInPlace, let declared = head.argument, declared >= UInt64(minimum) {
                let length = try checkedLength(declared, minimumItemSize: 1, at: head.start)
                strings.append(offset..<(offset + length))
                offset += length
                return .bytes([])
            }
            let string = try readStringBytes(head)
            if leavingInPlace != nil { strings.append(nil) }
            return .bytes(string)
        case 3:
            let raw = try readStringBytes(head)
            guard let text = Self.strictUTF8(raw) else { throw .invalidUTF8(offset: head.start) }
            return .text(text)
        case 4:
            try checkDepth(depth, at: head.start)
            return .array(try readArray(head, depth: depth))
        case 5:
            try checkDepth(depth, at: head.start)
            return .map(try readMap(head, depth: depth))
        case 6:
            guard let tag = head.argument else { throw .indefiniteLengthNotAllowed(offset: head.start, initialByte: head.initialByte) }
            try checkDepth(depth, at: head.start)
            return .tagged(tag: tag, value: try readItem(depth: depth + 1))
        default:
            return try readSimple(head)
        }
    }

    func checkDepth(_ depth: Int, at start: Int) throws(CBORError) {
        guard depth < maxDepth else { throw .nestingTooDeep(offset: start, limit: maxDepth) }
    }

    mutating func readStringBytes(_ head: Head) throws(CBORError) -> [UInt8] {
        if let declared = head.argument {
            let length = try checkedLength(declared, minimumItemSize: 1, at: head.start)
            defer { offset += length }
            return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
        }
        // Indefinite: definite chunks of the same major type until a break.
        var joined: [UInt8] = []
        while true {
            guard offset < bytes.count else { throw .unexpectedEnd(offset: offset, needed: 1) }
            if bytes[offset] == 0xff {
                offset += 1
                return joined
            }
            let chunk = try readHead()
            guard chunk.majorType == head.majorType, let declared = chunk.argument else {
                throw .invalidStringChunk(offset: chunk.start, initialByte: chunk.initialByte)
            }
            let length = try checkedLength(declared, minimumItemSize: 1, at: chunk.start)
            let piece = bytes[offset..<(offset + length)]
            // RFC 8949 §3.2.3: every text chunk must be valid UTF-8 on its own.
            if head.majorType == 3, Self.strictUTF8(Array(UnsafeRawBufferPointer(rebasing: piece))) == nil { throw .invalidUTF8(offset: chunk.start) }
            joined.append(contentsOf: piece)
            offset += length
        }
    }

    mutating func readArray(_ head: Head, depth: Int) throws(CBORError) -> [CBORValue] {
        var items: [CBORValue] = []
        if let declared = head.argument {
            let count = try checkedLength(declared, minimumItemSize: 1, at: head.start)
            items.reserveCapacity(count)
            for _ in 0..<count {
                items.append(try readItem(depth: depth + 1))
            }
            return items
        }
        while try !consumeBreak() {
            items.append(try readItem(depth: depth + 1))
        }
        return items
    }

    mutating func readMap(_ head: Head, depth: Int) throws(CBORError) -> [CBORMapEntry] {
        var entries: [CBORMapEntry] = []
        if let declared = head.argument {
            let count = try checkedLength(declared, minimumItemSize: 2, at: head.start)
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let key = try readItem(depth: depth + 1)
                entries.append(CBORMapEntry(key: key, value: try readItem(depth: depth + 1)))
            }
            return entries
        }
        while try !consumeBreak() {
            let key = try readItem(depth: depth + 1)
            entries.append(CBORMapEntry(key: key, value: try readItem(depth: depth + 1)))
        }
        return entries
    }

    /// In an indefinite-length container: consumes a break if one is next.
    mutating func consumeBreak() throws(CBORError) -> Bool {
        guard offset < bytes.count else { throw .unexpectedEnd(offset: offset, needed: 1) }
        if bytes[offset] == 0xff {
            offset += 1
            return true
        }
        return false
    }

    mutating func readSimple(_ head: Head) throws(CBORError) -> CBORValue {
        let info = head.initialByte & 0x1f
        guard let argument = head.argument else { throw .unexpectedBreak(offset: head.start) }
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 24:
            guard argument >= 32 else { throw .invalidSimpleValue(offset: head.start, value: UInt8(argument)) }
            return .simple(UInt8(argument))
        case 25: return .float16(bits: UInt16(argument))
        case 26: return .float32(Float(bitPattern: UInt32(argument)))
        case 27: return .float64(Double(bitPattern: argument))
        default: return .simple(info)
        }
    }

    /// Strict UTF-8 (rejects overlong forms, surrogates and truncated sequences), without the macOS 15-only
    /// `String(validating:)`.
    static func strictUTF8(_ raw: [UInt8]) -> String? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = raw.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return String(decoding: raw, as: UTF8.self)
            case .error: return nil
            }
        }
    }
}

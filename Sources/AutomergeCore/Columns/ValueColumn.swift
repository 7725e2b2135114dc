import ByteEncodings

/// A scalar value (docs/binary-format.md §4.7). Unknown type codes 10–15 keep their code and bytes.
package enum ScalarValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case uint(UInt64)
    case int(Int64)
    case f64(Double)
    case string(String)
    case bytes([UInt8])
    case counter(Int64)
    case timestamp(Int64)
    case unknown(code: UInt8, bytes: [UInt8])

    /// Byte-level equality (strings by UTF-8, floats by bit pattern).
    package static func == (lhs: ScalarValue, rhs: ScalarValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.f64(let a), .f64(let b)): return a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.counter(let a), .counter(let b)): return a == b
        case (.timestamp(let a), .timestamp(let b)): return a == b
        case (.unknown(let c1, let b1), .unknown(let c2, let b2)): return c1 == c2 && b1 == b2
        default: return false
        }
    }

    package var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .uint(let value): return "uint(\(value))"
        case .int(let value): return "int(\(value))"
        case .f64(let value): return "f64(\(value))"
        case .string(let value): return "\"\(value)\""
        case .bytes(let value): return "bytes(\(Hex.encode(value)))"
        case .counter(let value): return "counter(\(value))"
        case .timestamp(let value): return "timestamp(\(value))"
        case .unknown(let code, let bytes): return "unknown(\(code), \(Hex.encode(bytes)))"
        }
    }

    /// The metadata type code.
    package var typeCode: UInt8 {
        switch self {
        case .null: return 0
        case .bool(let value): return value ? 2 : 1
        case .uint: return 3
        case .int: return 4
        case .f64: return 5
        case .string: return 6
        case .bytes: return 7
        case .counter: return 8
        case .timestamp: return 9
        case .unknown(let code, _): return code
        }
    }

    /// Appends the raw bytes to `raw` and returns the metadata `(length << 4) | code`.
    @discardableResult
    package func encode(into raw: inout [UInt8]) -> UInt64 {
        let start = raw.count
        switch self {
        case .null, .bool: break
        case .uint(let value): LEB128.appendUnsigned(value, to: &raw)
        case .int(let value), .counter(let value), .timestamp(let value): LEB128.appendSigned(value, to: &raw)
        case .f64(let value):
            var bits = value.bitPattern
            for _ in 0..<8 {
                raw.append(UInt8(truncatingIfNeeded: bits))
                bits >>= 8
            }
        case .string(let value): raw.append(contentsOf: value.utf8)
        case .bytes(let value), .unknown(_, let value): raw.append(contentsOf: value)
        }
        return UInt64(raw.count - start) << 4 | UInt64(typeCode)
    }

    /// Decodes a value from its metadata and raw bytes. The declared length must match the
    /// value exactly: extra or overlong LEB bytes are rejected, as the reference does.
    package static func decode(metadata: UInt64, bytes: [UInt8], range: Range<Int>) throws(AutomergeError) -> ScalarValue {
        let code = UInt8(metadata & 0x0f)
        let length = range.count
        func leb<T>(_ read: (inout ByteReader) throws(AutomergeError) -> T) throws(AutomergeError) -> T {
            var reader = ByteReader(bytes, range: range)
            let value = try read(&reader)
            guard reader.isAtEnd else { throw .invalidValue("extra bytes") }
            return value
        }
        switch code {
        case 0, 1, 2:
            guard length == 0 else { throw .invalidValue("\(code == 0 ? "null" : "boolean") with \(length) bytes") }
            return code == 0 ? .null : .bool(code == 2)
        case 3: return .uint(try leb { (r: inout ByteReader) throws(AutomergeError) in try r.readULEB("uint value") })
        case 4: return .int(try leb { (r: inout ByteReader) throws(AutomergeError) in try r.readSLEB("int value") })
        case 5:
            guard length == 8 else { throw .invalidValue("float64 with \(length) bytes") }
            var bits: UInt64 = 0
            for index in range.reversed() { bits = bits << 8 | UInt64(bytes[index]) }
            return .f64(Double(bitPattern: bits))
        case 6: return .string(try decodeUTF8(bytes[range]))
        case 7: return .bytes(Array(bytes[range]))
        case 8: return .counter(try leb { (r: inout ByteReader) throws(AutomergeError) in try r.readSLEB("counter value") })
        case 9: return .timestamp(try leb { (r: inout ByteReader) throws(AutomergeError) in try r.readSLEB("timestamp value") })
        default: return .unknown(code: code, bytes: Array(bytes[range]))
        }
    }
}

extension ScalarValue {
    /// Checks a value's bytes the way `decode` does, without building the value (bytes and
    /// unknown types need no check).
    static func validate(metadata: UInt64, bytes: [UInt8], range: Range<Int>) throws(AutomergeError) {
        switch metadata & 0x0f {
        case 7, 10...15: return
        // ASCII is valid UTF-8: most text is, and building a `String` to validate it costs more
        // than the rest of decoding the op.
        case 6 where isASCII(bytes, range): return
        default: _ = try decode(metadata: metadata, bytes: bytes, range: range)
        }
    }
}

/// Whether `bytes[range]` is all ASCII.
@inline(__always)
func isASCII(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
    bytes.withUnsafeBufferPointer { buffer in
        var combined: UInt8 = 0
        for index in range { combined |= buffer[index] }
        return combined < 0x80
    }
}

/// Reads a value-metadata column together with its raw value column.
package struct ValueDecoder: Sendable {
    private var metadata: RLEDecoder<UInt64>
    private var raw: ByteReader

    package init(metadata: ByteReader, raw: ByteReader) {
        self.metadata = RLEDecoder(metadata)
        self.raw = raw
    }

    package var isAtEnd: Bool { metadata.isAtEnd && raw.isAtEnd }

    /// The next value's metadata and raw byte range; a missing row reads as null.
    package mutating func nextRaw() throws(AutomergeError) -> (metadata: UInt64, range: Range<Int>) {
        let meta = try metadata.next() ?? 0
        let length = meta >> 4
        guard length <= UInt64(raw.remaining) else { throw .invalidColumns("value length \(length) exceeds the value column") }
        return (meta, try raw.readRange(Int(length), "value"))
    }

    package mutating func next() throws(AutomergeError) -> ScalarValue {
        let (meta, range) = try nextRaw()
        return try ScalarValue.decode(metadata: meta, bytes: raw.bytes, range: range)
    }
}

/// Writes a value-metadata column and its raw value column.
package struct ValueEncoder: Sendable {
    private var metadata = RLEEncoder<UInt64>()
    package private(set) var raw: [UInt8] = []

    package init() {}

    package mutating func reset() {
        metadata.reset()
        if !raw.isEmpty { raw.removeAll(keepingCapacity: true) }
    }

    package var metadataBytes: [UInt8] { metadata.bytes }

    package mutating func append(_ value: ScalarValue) {
        metadata.appendValue(value.encode(into: &raw))
    }

    /// Appends an already-encoded value.
    package mutating func appendRaw(metadata meta: UInt64, bytes: ArraySlice<UInt8>) {
        metadata.appendValue(meta)
        raw.append(contentsOf: bytes)
    }

    package mutating func finish() -> (metadata: [UInt8], raw: [UInt8]) { (metadata.finish(), raw) }

    /// See `RLEEncoder.flush()`.
    package mutating func flush() { metadata.flush() }
}

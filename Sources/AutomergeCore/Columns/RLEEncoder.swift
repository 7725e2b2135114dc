import ByteEncodings

/// A value that can live in an RLE column.
package protocol RLEValue: Sendable {
    static func read(from reader: inout ByteReader) throws(AutomergeError) -> Self
    func write(to bytes: inout [UInt8])
    /// Equality as the encoder sees it: byte equality of the encoded form.
    func sameEncoding(as other: Self) -> Bool
}

extension UInt64: RLEValue {
    package static func read(from reader: inout ByteReader) throws(AutomergeError) -> UInt64 { try reader.readULEB() }
    package func write(to bytes: inout [UInt8]) { LEB128.appendUnsigned(self, to: &bytes) }
    package func sameEncoding(as other: UInt64) -> Bool { self == other }
}

extension Int64: RLEValue {
    package static func read(from reader: inout ByteReader) throws(AutomergeError) -> Int64 { try reader.readSLEB() }
    package func write(to bytes: inout [UInt8]) { LEB128.appendSigned(self, to: &bytes) }
    package func sameEncoding(as other: Int64) -> Bool { self == other }
}

/// Strings compare by UTF-8 bytes: Swift's `==` on `String` uses canonical equivalence,
/// which would merge distinct byte strings into one run and break byte-exactness.
extension String: RLEValue {
    package static func read(from reader: inout ByteReader) throws(AutomergeError) -> String { try reader.readString("string") }
    package func write(to bytes: inout [UInt8]) {
        LEB128.appendUnsigned(UInt64(utf8.count), to: &bytes)
        bytes.append(contentsOf: utf8)
    }
    package func sameEncoding(as other: String) -> Bool {
        // Compare contiguous UTF-8 buffers: much faster than iterating two UTF8Views.
        if let equal = utf8.withContiguousStorageIfAvailable({ lhs in
            other.utf8.withContiguousStorageIfAvailable { rhs in Self.sameBytes(lhs, rhs) }
        }), let equal {
            return equal
        }
        return utf8.elementsEqual(other.utf8)
    }

    /// Byte equality eight bytes at a time (generic `elementsEqual` goes byte by byte).
    static func sameBytes(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        let left = UnsafeRawBufferPointer(lhs)
        let right = UnsafeRawBufferPointer(rhs)
        var offset = 0
        while offset + 8 <= lhs.count {
            guard left.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            else { return false }
            offset += 8
        }
        while offset < lhs.count {
            guard lhs[offset] == rhs[offset] else { return false }
            offset += 1
        }
        return true
    }
}

/// The reference's canonical RLE encoder (docs/binary-format.md §4.3): repeat runs of two or more, lone values
/// merged into literal runs, literal runs never holding equal neighbours, null runs written
/// only when a value follows or at the end after a value, and an all-null column empty.
package struct RLEEncoder<Value: RLEValue>: Sendable {
    private enum State {
        case empty
        case initialNulls(Int)
        case nulls(Int)
        case lone(Value)
        case run(Value, Int)
        /// A literal run: `count` values already encoded in `literal`, then `last`.
        case literal(last: Value, count: Int)
    }

    private var state: State = .empty
    private var literal: [UInt8] = []
    /// The encoded column; complete after `finish()`.
    package private(set) var bytes: [UInt8] = []

    package init() {}

    /// Clears the encoder for reuse, keeping its buffers' capacity.
    package mutating func reset() {
        state = .empty
        if !literal.isEmpty { literal.removeAll(keepingCapacity: true) }
        if !bytes.isEmpty { bytes.removeAll(keepingCapacity: true) }
    }

    package mutating func append(_ value: Value?) {
        if let value { appendValue(value) } else { appendNull() }
    }

    package mutating func appendValue(_ value: Value) {
        switch state {
        case .empty:
            state = .lone(value)
        case .initialNulls(let count), .nulls(let count):
            writeNulls(count)
            state = .lone(value)
        case .lone(let other):
            if other.sameEncoding(as: value) {
                state = .run(value, 2)
            } else {
                other.write(to: &literal)
                state = .literal(last: value, count: 1)
            }
        case .run(let other, let count):
            if other.sameEncoding(as: value) {
                state = .run(other, count + 1)
            } else {
                writeRun(other, count)
                state = .lone(value)
            }
        case .literal(let last, let count):
            if last.sameEncoding(as: value) {
                flushLiteral(count)
                state = .run(value, 2)
            } else {
                last.write(to: &literal)
                state = .literal(last: value, count: count + 1)
            }
        }
    }

    package mutating func appendNull() {
        switch state {
        case .empty:
            state = .initialNulls(1)
        case .initialNulls(let count):
            state = .initialNulls(count + 1)
        case .nulls(let count):
            state = .nulls(count + 1)
        case .lone(let value):
            value.write(to: &literal)
            flushLiteral(1)
            state = .nulls(1)
        case .run(let value, let count):
            writeRun(value, count)
            state = .nulls(1)
        case .literal(let last, let count):
            last.write(to: &literal)
            flushLiteral(count + 1)
            state = .nulls(1)
        }
    }

    /// Flushes pending state and returns the column bytes (empty for an all-null column).
    @discardableResult
    package mutating func finish() -> [UInt8] {
        flush()
        return bytes
    }

    /// `finish()` without returning the bytes (read `bytes` afterwards): the encoders reused per
    /// rebuilt change call this, sparing a reference count round trip per column.
    package mutating func flush() {
        switch state {
        case .empty, .initialNulls: break
        case .nulls(let count): writeNulls(count)
        case .lone(let value):
            value.write(to: &literal)
            flushLiteral(1)
        case .run(let value, let count): writeRun(value, count)
        case .literal(let last, let count):
            last.write(to: &literal)
            flushLiteral(count + 1)
        }
        state = .empty
    }

    private mutating func writeNulls(_ count: Int) {
        bytes.append(0)
        LEB128.appendUnsigned(UInt64(count), to: &bytes)
    }

    private mutating func writeRun(_ value: Value, _ count: Int) {
        LEB128.appendSigned(Int64(count), to: &bytes)
        value.write(to: &bytes)
    }

    private mutating func flushLiteral(_ count: Int) {
        LEB128.appendSigned(-Int64(count), to: &bytes)
        bytes.append(contentsOf: literal)
        if !literal.isEmpty { literal.removeAll(keepingCapacity: true) }
    }
}

/// Delta encoding (docs/binary-format.md §4.4): differences from the previous non-null value, starting at 0.
package struct DeltaEncoder: Sendable {
    private var rle = RLEEncoder<Int64>()
    private var absolute: Int64 = 0

    package init() {}

    package mutating func reset() {
        rle.reset()
        absolute = 0
    }

    package var bytes: [UInt8] { rle.bytes }

    package mutating func append(_ value: Int64?) {
        guard let value else { return rle.appendNull() }
        rle.appendValue(value &- absolute)
        absolute = value
    }

    @discardableResult
    package mutating func finish() -> [UInt8] { rle.finish() }

    /// See `RLEEncoder.flush()`.
    package mutating func flush() { rle.flush() }
}

/// Boolean encoding (docs/binary-format.md §4.5): alternating run lengths starting with false.
package struct BooleanEncoder: Sendable {
    private var last = false
    private var count: UInt64 = 0
    package private(set) var bytes: [UInt8] = []
    package private(set) var sawTrue = false

    package init() {}

    package mutating func reset() {
        last = false
        count = 0
        if !bytes.isEmpty { bytes.removeAll(keepingCapacity: true) }
        sawTrue = false
    }

    package mutating func append(_ value: Bool) {
        if value { sawTrue = true }
        if value == last {
            count += 1
        } else {
            LEB128.appendUnsigned(count, to: &bytes)
            last = value
            count = 1
        }
    }

    @discardableResult
    package mutating func finish() -> [UInt8] {
        flush()
        return bytes
    }

    /// See `RLEEncoder.flush()`.
    package mutating func flush() {
        if count > 0 { LEB128.appendUnsigned(count, to: &bytes) }
        count = 0
    }
}

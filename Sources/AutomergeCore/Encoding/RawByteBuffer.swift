import ByteEncodings

/// A growable byte buffer in manually managed memory, for the rebuild's per-change encoding:
/// no reference counting, uniqueness or exclusivity checks per byte written, as an array kept in
/// a struct field costs in a loop run for every op of hundreds of thousands of changes.
///
/// A value type holding a raw pointer: its owner calls `deallocate()` exactly once (the rebuild
/// does so in a `defer`), and never uses a copy after that.
struct RawByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    /// Bytes written.
    var count = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() { base.deallocate() }

    /// The bytes written so far (valid until the next write or `deallocate()`).
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Makes room for `extra` more bytes.
    @inline(__always) mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    @inline(never) private mutating func grow(to minimum: Int) {
        let newCapacity = max(minimum, capacity * 2)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    @inline(__always) mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always) mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        if bytes.count <= 16 {
            // A change's columns are a few bytes each: a loop beats a call to memcpy.
            for index in 0..<bytes.count { base[count + index] = source.load(fromByteOffset: index, as: UInt8.self) }
        } else {
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inline(__always) mutating func appendUnsigned(_ value: UInt64) {
        reserve(LEB128.maximumLength)
        var value = value
        while value >= 0x80 {
            base[count] = UInt8(truncatingIfNeeded: value) | 0x80
            count += 1
            value >>= 7
        }
        base[count] = UInt8(truncatingIfNeeded: value)
        count += 1
    }

    @inline(__always) mutating func appendSigned(_ value: Int64) {
        reserve(LEB128.maximumLength)
        var value = value
        while true {
            let byte = UInt8(truncatingIfNeeded: value) & 0x7f
            value >>= 7
            if (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0) {
                base[count] = byte
                count += 1
                return
            }
            base[count] = byte | 0x80
            count += 1
        }
    }

    /// Appends a hash's 32 bytes (big-endian words, as stored).
    @inline(__always) mutating func append(_ hash: ChangeHash) {
        reserve(32)
        let raw = UnsafeMutableRawPointer(base + count)
        raw.storeBytes(of: hash.w0.bigEndian, toByteOffset: 0, as: UInt64.self)
        raw.storeBytes(of: hash.w1.bigEndian, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: hash.w2.bigEndian, toByteOffset: 16, as: UInt64.self)
        raw.storeBytes(of: hash.w3.bigEndian, toByteOffset: 24, as: UInt64.self)
        count += 32
    }

    /// Writes the signed LEB128 form of `value` into the one-byte slot reserved at `offset`,
    /// moving the bytes after it when the value needs more (a literal run's header, written once
    /// its length is known: one byte for up to 64 values).
    mutating func fillSigned(_ value: Int64, slot offset: Int) {
        let length = Self.signedSize(value)
        if length > 1 {
            reserve(length - 1)
            // Overlapping regions: `moveInitialize` copies in the safe direction (UInt8 is trivial).
            (base + offset + length).moveInitialize(from: base + offset + 1, count: count - offset - 1)
            count += length - 1
        }
        var value = value
        for index in 0..<length {
            let byte = UInt8(truncatingIfNeeded: value) & 0x7f
            value >>= 7
            base[offset + index] = index == length - 1 ? byte : byte | 0x80
        }
    }

    static func signedSize(_ value: Int64) -> Int {
        var value = value
        var length = 1
        while true {
            let byte = UInt8(truncatingIfNeeded: value) & 0x7f
            value >>= 7
            if (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0) { return length }
            length += 1
        }
    }

    static func unsignedSize(_ value: UInt64) -> Int {
        var value = value >> 7
        var length = 1
        while value != 0 {
            value >>= 7
            length += 1
        }
        return length
    }
}

/// Interned strings in their encoded form (a LEB128 length, then the UTF-8 bytes), one after
/// another: string `index` is `bytes[starts[index]..<starts[index + 1]]`. Equal indexes are
/// byte-equal strings, so a run column compares indexes.
struct EncodedStrings {
    var bytes: UnsafeRawBufferPointer
    var starts: UnsafeBufferPointer<Int32>

    @inline(__always) func write(_ index: Int, to out: inout RawByteBuffer) {
        let start = Int(starts[index])
        out.append(UnsafeRawBufferPointer(rebasing: bytes[start..<Int(starts[index + 1])]))
    }
}

/// `RLEEncoder`'s canonical run-length encoding (docs/binary-format.md §4.3) for the rebuild's
/// per-change columns: values are 64-bit patterns (unsigned, signed or an interned string's index)
/// compared as such, and written into a `RawByteBuffer` the column owns.
///
/// Byte-identical to `RLEEncoder` (tested against it); it differs in being a handful of scalars and
/// a raw buffer, reset per change without touching an array. A literal run's values are written
/// as they come, after a byte kept for its header, filled in when the run closes.
struct RunColumnWriter {
    enum Kind { case unsigned, signed, string }

    private enum State: UInt8 { case empty, initialNulls, nulls, lone, run, literal }

    let kind: Kind
    private var state = State.empty
    /// The lone value, the run's value or the literal's last (not yet written) value.
    private var value: UInt64 = 0
    /// Nulls pending, the run's length, or the literal values already written.
    private var count = 0
    /// The open literal's header slot in `out` (its values follow).
    private var literalStart = 0
    private(set) var out: RawByteBuffer

    init(_ kind: Kind) {
        self.kind = kind
        out = RawByteBuffer(capacity: 256)
    }

    func deallocate() { out.deallocate() }

    @inline(__always) mutating func reset() {
        state = .empty
        out.count = 0
    }

    @inline(__always) private mutating func write(_ value: UInt64, _ strings: EncodedStrings) {
        switch kind {
        case .unsigned: out.appendUnsigned(value)
        case .signed: out.appendSigned(Int64(bitPattern: value))
        case .string: strings.write(Int(value), to: &out)
        }
    }

    @inline(__always) private mutating func writeNulls(_ count: Int) {
        out.append(0)
        out.appendUnsigned(UInt64(count))
    }

    @inline(__always) private mutating func writeRun(_ value: UInt64, _ count: Int, _ strings: EncodedStrings) {
        out.appendSigned(Int64(count))
        write(value, strings)
    }

    /// Closes the open literal of `count` written values.
    @inline(__always) private mutating func closeLiteral(_ count: Int) {
        out.fillSigned(-Int64(count), slot: literalStart)
    }

    @inline(__always) private mutating func openLiteral() {
        literalStart = out.count
        out.append(0)
    }

    /// A literal run of the one value: header -1, then the value.
    @inline(__always) private mutating func writeLone(_ value: UInt64, _ strings: EncodedStrings) {
        out.append(0x7f)
        write(value, strings)
    }

    @inline(__always) mutating func append(_ newValue: UInt64, _ strings: EncodedStrings) {
        switch state {
        case .empty:
            state = .lone
            value = newValue
        case .initialNulls, .nulls:
            writeNulls(count)
            state = .lone
            value = newValue
        case .lone:
            if value == newValue {
                state = .run
                count = 2
            } else {
                openLiteral()
                write(value, strings)
                state = .literal
                count = 1
                value = newValue
            }
        case .run:
            if value == newValue {
                count += 1
            } else {
                writeRun(value, count, strings)
                state = .lone
                value = newValue
            }
        case .literal:
            if value == newValue {
                closeLiteral(count)
                state = .run
                count = 2
            } else {
                write(value, strings)
                count += 1
                value = newValue
            }
        }
    }

    @inline(__always) mutating func appendNull(_ strings: EncodedStrings) {
        switch state {
        case .empty:
            state = .initialNulls
            count = 1
        case .initialNulls, .nulls:
            count += 1
        case .lone:
            writeLone(value, strings)
            state = .nulls
            count = 1
        case .run:
            writeRun(value, count, strings)
            state = .nulls
            count = 1
        case .literal:
            write(value, strings)
            closeLiteral(count + 1)
            state = .nulls
            count = 1
        }
    }

    /// Writes what is pending; `out` then holds the column (empty for an all-null column).
    mutating func flush(_ strings: EncodedStrings) {
        switch state {
        case .empty, .initialNulls: break
        case .nulls: writeNulls(count)
        case .lone:
            writeLone(value, strings)
        case .run: writeRun(value, count, strings)
        case .literal:
            write(value, strings)
            closeLiteral(count + 1)
        }
        state = .empty
    }
}

/// `DeltaEncoder` over a `RunColumnWriter`: differences from the previous non-null value.
struct DeltaColumnWriter {
    private(set) var run = RunColumnWriter(.signed)
    private var absolute: Int64 = 0

    func deallocate() { run.deallocate() }

    @inline(__always) mutating func reset() {
        run.reset()
        absolute = 0
    }

    @inline(__always) mutating func append(_ value: Int64) {
        run.append(UInt64(bitPattern: value &- absolute), .none)
        absolute = value
    }

    @inline(__always) mutating func appendNull() { run.appendNull(.none) }

    mutating func flush() { run.flush(.none) }

    var out: RawByteBuffer { run.out }
}

/// `BooleanEncoder` into a raw buffer: alternating run lengths, starting with false.
struct BooleanColumnWriter {
    private var last = false
    private var count: UInt64 = 0
    private(set) var sawTrue = false
    private(set) var out = RawByteBuffer(capacity: 64)

    func deallocate() { out.deallocate() }

    @inline(__always) mutating func reset() {
        last = false
        count = 0
        sawTrue = false
        out.count = 0
    }

    @inline(__always) mutating func append(_ value: Bool) {
        if value == last {
            count += 1
        } else {
            sawTrue = sawTrue || value
            out.appendUnsigned(count)
            last = value
            count = 1
        }
    }

    mutating func flush() {
        if count > 0 { out.appendUnsigned(count) }
        count = 0
    }
}

extension EncodedStrings {
    /// For columns that hold no strings.
    static var none: EncodedStrings {
        EncodedStrings(bytes: UnsafeRawBufferPointer(start: nil, count: 0), starts: UnsafeBufferPointer(start: nil, count: 0))
    }
}

/// Reads an RLE column (docs/binary-format.md §4.2). Reading past the end yields nulls, which is how a
/// missing column reads; callers check `isAtEnd` afterwards to reject columns that are too long.
package struct RLEDecoder<Value: RLEValue>: Sendable {
    private var reader: ByteReader
    private var remainingInRun = 0
    private var kind: Kind = .nulls
    private var repeated: Value?

    private enum Kind { case nulls, repeating, literal }

    package init(_ reader: ByteReader) { self.reader = reader }

    package init(bytes: [UInt8], range: Range<Int>) { self.reader = ByteReader(bytes, range: range) }

    /// Empty column: every read is null.
    package init() { self.reader = ByteReader([]) }

    /// True once every run has been consumed.
    package var isAtEnd: Bool { remainingInRun == 0 && reader.isAtEnd }

    package mutating func next() throws(AutomergeError) -> Value? {
        if remainingInRun == 0 {
            if reader.isAtEnd { return nil }
            try startRun()
        }
        remainingInRun -= 1
        switch kind {
        case .nulls: return nil
        case .repeating: return repeated
        case .literal: return try Value.read(from: &reader)
        }
    }

    /// The next value, which must not be null.
    package mutating func nextNonNull(_ column: @autoclosure () -> String) throws(AutomergeError) -> Value {
        guard let value = try next() else { throw .invalidColumns("unexpected null in column \(column())") }
        return value
    }

    private mutating func startRun() throws(AutomergeError) {
        let count = try reader.readSLEB("run length")
        if count > 0 {
            guard count <= Int64(Int32.max) else { throw .invalidColumns("run length \(count) too large") }
            kind = .repeating
            remainingInRun = Int(count)
            repeated = try Value.read(from: &reader)
        } else if count < 0 {
            // Each literal value takes at least one byte, so a longer run than the input is hostile.
            guard count != Int64.min, -count <= Int64(reader.remaining) else {
                throw .invalidColumns("literal run of \(count) longer than the column")
            }
            kind = .literal
            remainingInRun = Int(-count)
        } else {
            let nulls = try reader.readULEB("null run length")
            guard nulls > 0 else { throw .invalidColumns("empty null run") }
            guard nulls <= UInt64(Int32.max) else { throw .invalidColumns("null run \(nulls) too large") }
            kind = .nulls
            remainingInRun = Int(nulls)
        }
    }
}

/// Reads a delta column: a running sum of the RLE-encoded differences.
package struct DeltaDecoder: Sendable {
    private var rle: RLEDecoder<Int64>
    private var absolute: Int64 = 0

    package init(_ reader: ByteReader) { rle = RLEDecoder(reader) }
    package init() { rle = RLEDecoder() }

    package var isAtEnd: Bool { rle.isAtEnd }

    package mutating func next() throws(AutomergeError) -> Int64? {
        guard let delta = try rle.next() else { return nil }
        let (sum, overflow) = absolute.addingReportingOverflow(delta)
        guard !overflow else { throw .invalidColumns("delta column overflows 64 bits") }
        absolute = sum
        return sum
    }

    /// The next value as a non-negative counter that fits the reference's u32 limit.
    package mutating func nextCounter(_ column: @autoclosure () -> String) throws(AutomergeError) -> UInt64? {
        guard let value = try next() else { return nil }
        guard value >= 0 else { throw .invalidColumns("negative value in column \(column())") }
        guard value <= Int64(UInt32.max) else { throw .counterTooLarge(UInt64(value)) }
        return UInt64(value)
    }
}

/// Reads a boolean column: alternating run lengths starting with false. Past the end: false.
package struct BooleanDecoder: Sendable {
    private var reader: ByteReader
    private var current = true
    private var remainingInRun: UInt64 = 0

    package init(_ reader: ByteReader) { self.reader = reader }
    package init() { self.reader = ByteReader([]) }

    package var isAtEnd: Bool { remainingInRun == 0 && reader.isAtEnd }

    package mutating func next() throws(AutomergeError) -> Bool {
        while remainingInRun == 0 {
            if reader.isAtEnd { return false }
            let count = try reader.readULEB("boolean run")
            // Only the first run (false) may be empty, for a column that starts with true.
            if count == 0 && started { throw .invalidColumns("zero-length boolean run") }
            guard count <= UInt64(Int32.max) else { throw .invalidColumns("boolean run \(count) too large") }
            current.toggle()
            started = true
            remainingInRun = count
        }
        remainingInRun -= 1
        return current
    }

    private var started = false
}

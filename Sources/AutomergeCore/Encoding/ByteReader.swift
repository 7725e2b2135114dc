import ByteEncodings

/// A bounds-checked cursor over bytes. Every read either succeeds or throws; nothing traps.
package struct ByteReader: Sendable {
    package let bytes: [UInt8]
    package private(set) var offset: Int
    package let end: Int

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    /// A reader over `bytes[range]`.
    package init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    package var isAtEnd: Bool { offset >= end }
    package var remaining: Int { end - offset }

    package mutating func readByte(_ what: @autoclosure () -> String = "byte") throws(AutomergeError) -> UInt8 {
        guard offset < end else { throw .unexpectedEnd(what: what()) }
        let byte = bytes[offset]
        offset += 1
        return byte
    }

    /// The range of the next `count` bytes, consumed.
    package mutating func readRange(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws(AutomergeError) -> Range<Int> {
        guard count >= 0, count <= end - offset else { throw .unexpectedEnd(what: what()) }
        let range = offset..<(offset + count)
        offset += count
        return range
    }

    package mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws(AutomergeError) -> [UInt8] {
        let range = try readRange(count, what())
        return Array(bytes[range])
    }

    /// Reads a uLEB128 (shortest form, at most 64 bits). `what` names the field in the error.
    package mutating func readULEB(_ what: @autoclosure () -> String = "uLEB128") throws(AutomergeError) -> UInt64 {
        do {
            return try LEB128.readUnsigned(bytes, at: &offset, end: end)
        } catch {
            throw AutomergeError(error, what: what())
        }
    }

    /// Reads an sLEB128 (shortest form, at most 64 bits). `what` names the field in the error.
    package mutating func readSLEB(_ what: @autoclosure () -> String = "sLEB128") throws(AutomergeError) -> Int64 {
        do {
            return try LEB128.readSigned(bytes, at: &offset, end: end)
        } catch {
            throw AutomergeError(error, what: what())
        }
    }

    /// A uLEB that is used as a count or length: it must fit in the remaining input
    /// (each item takes at least `minimumItemSize` bytes), so hostile lengths never allocate.
    package mutating func readCount(_ what: @autoclosure () -> String, minimumItemSize: Int = 1) throws(AutomergeError) -> Int {
        let value = try readULEB(what())
        guard value <= UInt64(remaining / max(minimumItemSize, 1)) else { throw .lengthTooLarge(what: what(), length: value) }
        return Int(value)
    }

    package mutating func readLengthPrefixedRange(_ what: @autoclosure () -> String) throws(AutomergeError) -> Range<Int> {
        let count = try readCount(what())
        return try readRange(count, what())
    }

    package mutating func readLengthPrefixedBytes(_ what: @autoclosure () -> String) throws(AutomergeError) -> [UInt8] {
        Array(bytes[try readLengthPrefixedRange(what())])
    }

    package mutating func readString(_ what: @autoclosure () -> String) throws(AutomergeError) -> String {
        let range = try readLengthPrefixedRange(what())
        return try decodeUTF8(bytes[range])
    }

    package mutating func readHash(_ what: @autoclosure () -> String = "change hash") throws(AutomergeError) -> ChangeHash {
        let range = try readRange(32, what())
        return ChangeHash(bytes, at: range.lowerBound)
    }

    package mutating func readHashArray(_ what: @autoclosure () -> String) throws(AutomergeError) -> [ChangeHash] {
        let count = try readCount(what(), minimumItemSize: 32)
        var hashes: [ChangeHash] = []
        hashes.reserveCapacity(count)
        for _ in 0..<count { hashes.append(try readHash(what())) }
        return hashes
    }

    package mutating func readActorArray(_ what: @autoclosure () -> String) throws(AutomergeError) -> [ActorId] {
        let count = try readCount(what())
        var actors: [ActorId] = []
        actors.reserveCapacity(count)
        for _ in 0..<count { actors.append(ActorId(try readLengthPrefixedBytes(what()))) }
        return actors
    }
}

/// Strict UTF-8 decoding: invalid sequences are an error, not replacement characters.
package func decodeUTF8<C: Collection>(_ bytes: C) throws(AutomergeError) -> String where C.Element == UInt8 {
    guard let string = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8 }
    return string
}

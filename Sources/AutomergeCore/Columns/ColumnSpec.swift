/// A column specification: `(id << 4) | (deflate << 3) | type` (docs/binary-format.md §4.1).
package struct ColumnSpec: Hashable, Comparable, Sendable, CustomStringConvertible {
    package enum ColumnType: UInt32, Sendable {
        case group = 0
        case actor = 1
        case uleb = 2
        case delta = 3
        case boolean = 4
        case string = 5
        case valueMetadata = 6
        case value = 7
    }

    package let rawValue: UInt32

    package init(rawValue: UInt32) { self.rawValue = rawValue }

    package init(id: UInt32, type: ColumnType, deflate: Bool = false) {
        rawValue = id << 4 | (deflate ? 8 : 0) | type.rawValue
    }

    package var id: UInt32 { rawValue >> 4 }
    package var type: ColumnType { ColumnType(rawValue: rawValue & 7) ?? .group }
    package var isDeflated: Bool { rawValue & 8 != 0 }
    /// The spec with the deflate bit cleared: what ordering and identity use.
    package var normalized: ColumnSpec { ColumnSpec(rawValue: rawValue & ~8) }
    package var deflated: ColumnSpec { ColumnSpec(rawValue: rawValue | 8) }

    package static func < (lhs: ColumnSpec, rhs: ColumnSpec) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { "0x" + String(rawValue, radix: 16) }
}

extension ColumnSpec {
    // Op columns shared by changes and documents (docs/binary-format.md §3.2, §5.3).
    package static let objActor = ColumnSpec(id: 0, type: .actor)
    package static let objCounter = ColumnSpec(id: 0, type: .uleb)
    package static let keyActor = ColumnSpec(id: 1, type: .actor)
    package static let keyCounter = ColumnSpec(id: 1, type: .delta)
    package static let keyString = ColumnSpec(id: 1, type: .string)
    package static let idActor = ColumnSpec(id: 2, type: .actor)
    package static let idCounter = ColumnSpec(id: 2, type: .delta)
    package static let insert = ColumnSpec(id: 3, type: .boolean)
    package static let action = ColumnSpec(id: 4, type: .uleb)
    package static let valueMetadata = ColumnSpec(id: 5, type: .valueMetadata)
    package static let value = ColumnSpec(id: 5, type: .value)
    package static let predGroup = ColumnSpec(id: 7, type: .group)
    package static let predActor = ColumnSpec(id: 7, type: .actor)
    package static let predCounter = ColumnSpec(id: 7, type: .delta)
    package static let succGroup = ColumnSpec(id: 8, type: .group)
    package static let succActor = ColumnSpec(id: 8, type: .actor)
    package static let succCounter = ColumnSpec(id: 8, type: .delta)
    package static let expand = ColumnSpec(id: 9, type: .boolean)
    package static let markName = ColumnSpec(id: 10, type: .string)

    // Document change columns (docs/binary-format.md §5.2).
    package static let changeActor = ColumnSpec(id: 0, type: .actor)
    package static let changeSeq = ColumnSpec(id: 0, type: .delta)
    package static let changeMaxOp = ColumnSpec(id: 1, type: .delta)
    package static let changeTime = ColumnSpec(id: 2, type: .delta)
    package static let changeMessage = ColumnSpec(id: 3, type: .string)
    package static let changeDepsGroup = ColumnSpec(id: 4, type: .group)
    package static let changeDepsIndex = ColumnSpec(id: 4, type: .delta)
    package static let changeExtraMetadata = ColumnSpec(id: 5, type: .valueMetadata)
    package static let changeExtraValue = ColumnSpec(id: 5, type: .value)
}

/// One column as stored: its spec and where its (possibly still compressed) bytes are.
package struct RawColumn: Sendable, Equatable {
    package var spec: ColumnSpec
    package var range: Range<Int>
}

/// Column metadata (docs/binary-format.md §4.1): a count, then (spec, length) pairs, in strictly increasing
/// normalized-spec order.
package enum ColumnMetadata {
    /// Reads the metadata; the data ranges start at `dataStart` (set later by the caller
    /// via `locate`). Returns (spec, length) pairs.
    static func read(_ reader: inout ByteReader, allowDeflate: Bool) throws(AutomergeError) -> [(ColumnSpec, Int)] {
        let count = try reader.readCount("column count", minimumItemSize: 2)
        var columns: [(ColumnSpec, Int)] = []
        columns.reserveCapacity(count)
        var previous: ColumnSpec?
        for _ in 0..<count {
            let rawSpec = try reader.readULEB("column spec")
            guard rawSpec <= UInt64(UInt32.max) else { throw .invalidColumns("column spec \(rawSpec) too large") }
            let spec = ColumnSpec(rawValue: UInt32(rawSpec))
            let length = try reader.readULEB("column length")
            guard length <= UInt64(Int32.max) else { throw .lengthTooLarge(what: "column", length: length) }
            if spec.isDeflated && !allowDeflate { throw .invalidColumns("compressed column \(spec) in a change chunk") }
            if let previous, spec.normalized <= previous.normalized {
                throw .invalidColumns("columns were not in normalized order")
            }
            previous = spec
            columns.append((spec, Int(length)))
        }
        return columns
    }

    /// Assigns consecutive data ranges starting at the reader's position and consumes them.
    static func locate(_ columns: [(ColumnSpec, Int)], in reader: inout ByteReader) throws(AutomergeError) -> [RawColumn] {
        var result: [RawColumn] = []
        result.reserveCapacity(columns.count)
        for (spec, length) in columns {
            result.append(RawColumn(spec: spec, range: try reader.readRange(length, "column data")))
        }
        return result
    }

    /// Writes metadata for the given (spec, data) pairs, which must already be sorted.
    static func write(_ columns: [(ColumnSpec, [UInt8])], to writer: inout ByteWriter) {
        writer.writeULEB(UInt64(columns.count))
        for (spec, data) in columns {
            writer.writeULEB(UInt64(spec.rawValue))
            writer.writeULEB(UInt64(data.count))
        }
    }
}

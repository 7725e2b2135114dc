import ByteEncodings

@testable import AutomergeCore

/// The fixtures' typed view (`NAME.typed.json`), built from the op set's read API: every value
/// labelled with its datatype, conflicts listed with their op ids.
enum TypedView {
    static func document(_ opSet: OpSet) -> AutomergeJSON {
        object(opSet, .root, .map)
    }

    static func object(_ opSet: OpSet, _ id: ObjId, _ kind: ObjectKind) -> AutomergeJSON {
        switch kind {
        case .map, .table:
            let members = opSet.keys(id).map { key in (key, property(opSet, opSet.getAll(id, key: key))) }
            return .object([("id", .string(id.description)), ("map", .object(members))])
        case .list:
            return .object([("id", .string(id.description)), ("list", .array(opSet.elements(id).map { property(opSet, $0) }))])
        case .text:
            var members: [(String, AutomergeJSON)] = [("id", .string(id.description)), ("text", .string(opSet.text(id)))]
            let marks = opSet.marks(id)
            if !marks.isEmpty {
                members.append(
                    (
                        "marks",
                        .array(
                            marks.map { mark in
                                .object([
                                    ("name", .string(mark.name)), ("start", .int(Int64(mark.start))), ("end", .int(Int64(mark.end))),
                                    ("value", plain(mark.value)),
                                ])
                            }
                        )
                    )
                )
            }
            return .object(members)
        }
    }

    static func property(_ opSet: OpSet, _ values: [ValueWithId]) -> AutomergeJSON {
        guard let winner = values.last else { return .null }
        guard case .object(var members) = value(opSet, winner.value) else { return .null }
        if values.count > 1 {
            let conflicts: [AutomergeJSON] = values.map { entry in
                guard case .object(var fields) = value(opSet, entry.value) else { return .null }
                fields.append(("opId", .string(entry.id.description)))
                return .object(fields)
            }
            members.append(("conflicts", .array(conflicts)))
        }
        return .object(members)
    }

    static func value(_ opSet: OpSet, _ value: DocumentValue) -> AutomergeJSON {
        switch value {
        case .object(let id, let kind): return object(opSet, id, kind)
        case .scalar(let scalar): return .object([label(scalar)])
        }
    }

    static func label(_ scalar: ScalarValue) -> (String, AutomergeJSON) {
        switch scalar {
        case .null: return ("null", .null)
        case .bool(let value): return ("boolean", .bool(value))
        case .uint(let value): return ("uint", .uint(value))
        case .int(let value): return ("int", .int(value))
        case .f64(let value):
            if value.isNaN { return ("f64", .string("NaN")) }
            if value.isInfinite { return ("f64", .string(value < 0 ? "-Infinity" : "Infinity")) }
            if value == 0 && value.sign == .minus { return ("f64", .string("-0")) }
            return ("f64", .double(value))
        case .string(let value): return ("str", .string(value))
        case .bytes(let value): return ("bytes", .string(Hex.encode(value)))
        case .counter(let value): return ("counter", .int(value))
        case .timestamp(let value): return ("timestamp", .int(value))
        case .unknown(let code, let bytes): return ("unknown\(code)", .string(Hex.encode(bytes)))
        }
    }

    /// A scalar in the JSON view (mark values).
    static func plain(_ scalar: ScalarValue) -> AutomergeJSON {
        switch scalar {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .uint(let value): return .uint(value)
        case .int(let value), .counter(let value), .timestamp(let value): return .int(value)
        case .f64(let value): return .double(value)
        case .string(let value): return .string(value)
        case .bytes(let value), .unknown(_, let value): return .array(value.map { .int(Int64($0)) })
        }
    }
}

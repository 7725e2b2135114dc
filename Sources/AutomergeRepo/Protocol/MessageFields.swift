/// Field access over a decoded message map with the docs/repo-protocol.md §1.2 acceptance rules: `undefined` and `null`
/// mean absent, a later duplicate key wins (JS object semantics), unknown keys are ignored.
struct MessageFields {
    let messageType: String
    private var values: [String: CBORValue] = [:]

    init(messageType: String, entries: [CBORMapEntry]) {
        self.messageType = messageType
        for entry in entries {
            guard case .text(let key) = entry.key else { continue }
            values[key] = entry.value
        }
    }

    /// The value, or `nil` when absent, `null` or `undefined`.
    func optional(_ field: String) -> CBORValue? {
        guard let value = values[field], !value.isNullOrUndefined else { return nil }
        return value
    }

    func required(_ field: String) throws(RepoMessageError) -> CBORValue {
        guard let value = optional(field) else { throw .missingField(messageType: messageType, field: field) }
        return value
    }

    func text(_ field: String) throws(RepoMessageError) -> String {
        let value = try required(field)
        guard case .text(let text) = value else { throw wrongType(field, "a text string", value) }
        return text
    }

    func optionalText(_ field: String) throws(RepoMessageError) -> String? {
        guard let value = optional(field) else { return nil }
        guard case .text(let text) = value else { throw wrongType(field, "a text string", value) }
        return text
    }

    func bytes(_ field: String) throws(RepoMessageError) -> [UInt8] {
        let value = try required(field)
        guard case .bytes(let bytes) = value else { throw wrongType(field, "a byte string", value) }
        return bytes
    }

    func optionalBool(_ field: String) throws(RepoMessageError) -> Bool? {
        guard let value = optional(field) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(field, "a boolean", value) }
        return flag
    }

    func optionalTextArray(_ field: String) throws(RepoMessageError) -> [String]? {
        guard let value = optional(field) else { return nil }
        return try Self.textArray(value, field: field, messageType: messageType)
    }

    /// A count: JS numbers arrive as an unsigned int or, above 32 bits, as a float.
    func count(_ field: String) throws(RepoMessageError) -> UInt64 {
        let value = try required(field)
        if case .unsigned(let n) = value { return n }
        guard let number = value.numericValue else { throw wrongType(field, "a number", value) }
        guard number.isFinite, number >= 0, number < 0x1p64, number.rounded(.towardZero) == number else {
            throw .invalidNumber(messageType: messageType, field: field)
        }
        return UInt64(number)
    }

    static func textArray(_ value: CBORValue, field: String, messageType: String) throws(RepoMessageError) -> [String] {
        guard case .array(let items) = value else {
            throw .wrongFieldType(messageType: messageType, field: field, expected: "an array of text strings", found: value.kindName)
        }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items {
            guard case .text(let text) = item else {
                throw .wrongFieldType(
                    messageType: messageType,
                    field: field,
                    expected: "an array of text strings",
                    found: "array containing \(item.kindName)"
                )
            }
            strings.append(text)
        }
        return strings
    }

    func wrongType(_ field: String, _ expected: String, _ value: CBORValue) -> RepoMessageError {
        .wrongFieldType(messageType: messageType, field: field, expected: expected, found: value.kindName)
    }
}

/// Parses `.env` files: `KEY=VALUE` lines, `#` comments, optional `export `, and single or double
/// quotes (double quotes understand `\n`, `\"` and `\\`). Later lines override earlier ones.
package enum DotEnv {
    package static func parse(_ contents: String, path: String = ".env") throws(ConfigurationError) -> [String: String] {
        var values: [String: String] = [:]
        var problems: [ConfigurationProblem] = []
        // "\r\n" is a single Character, so splitting on isNewline handles LF and CRLF files alike.
        let lines = contents.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, rawLine) in lines.enumerated() {
            var line = rawLine.drop(while: \.isWhitespace)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).drop(while: \.isWhitespace) }
            guard let equals = line.firstIndex(of: "=") else {
                problems.append(.malformedDotEnvLine(path: path, line: index + 1))
                continue
            }
            let key = String(line[..<equals].trimmingTrailingWhitespace())
            guard isValidKey(key), let value = parseValue(line[line.index(after: equals)...]) else {
                problems.append(.malformedDotEnvLine(path: path, line: index + 1))
                continue
            }
            values[key] = value
        }
        guard problems.isEmpty else { throw ConfigurationError(problems) }
        return values
    }

    private static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return key.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// Returns nil for an unterminated quote.
    private static func parseValue(_ text: Substring) -> String? {
        let value = text.drop(while: \.isWhitespace)
        guard let quote = value.first, quote == "\"" || quote == "'" else {
            // Unquoted: a ` #` starts a trailing comment.
            var end = value.endIndex
            var previous: Character = " "
            for index in value.indices {
                if value[index] == "#" && previous.isWhitespace {
                    end = index
                    break
                }
                previous = value[index]
            }
            return String(value[..<end].trimmingTrailingWhitespace())
        }
        var result = ""
        var index = value.index(after: value.startIndex)
        while index < value.endIndex {
            let character = value[index]
            if character == quote {
                let rest = value[value.index(after: index)...].drop(while: \.isWhitespace)
                return rest.isEmpty || rest.hasPrefix("#") ? result : nil
            }
            if quote == "\"" && character == "\\" {
                let next = value.index(after: index)
                guard next < value.endIndex else { return nil }
                switch value[next] {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "\"": result.append("\"")
                case "\\": result.append("\\")
                default:
                    result.append("\\")
                    result.append(value[next])
                }
                index = value.index(after: next)
                continue
            }
            result.append(character)
            index = value.index(after: index)
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingTrailingWhitespace() -> Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)].isWhitespace { end = index(before: end) }
        return self[startIndex..<end]
    }
}

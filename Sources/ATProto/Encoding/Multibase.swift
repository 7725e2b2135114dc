import ByteEncodings

/// Multibase strings; only base58btc (`z`) occurs in atproto keys.
package enum Multibase {
    package enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case unsupportedPrefix(Character)
        case invalidBase58

        package var description: String {
            switch self {
            case .empty: "multibase string is empty"
            case .unsupportedPrefix(let prefix): "multibase prefix '\(prefix)' is not supported (only 'z', base58btc)"
            case .invalidBase58: "multibase string is not valid base58btc"
            }
        }
    }

    package static func decode(_ string: String) throws(DecodingError) -> [UInt8] {
        guard let first = string.first else { throw .empty }
        guard first == "z" else { throw .unsupportedPrefix(first) }
        guard let bytes = try? Base58.decode(string.dropFirst()) else { throw .invalidBase58 }
        return bytes
    }

    package static func encodeBase58btc(_ bytes: [UInt8]) -> String {
        "z" + Base58.encode(bytes)
    }
}

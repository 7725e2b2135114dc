/// Base58 with the Bitcoin alphabet ("base58btc"): multibase `z` strings and `did:key` in ATProto,
/// and bs58 document ids and change hashes in automerge-repo.
package enum Base58 {
    /// The Bitcoin alphabet: no `0`, `O`, `I` or `l`.
    package static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    /// Longest string `decode` accepts by default. Decoding is quadratic, so hostile input must stay
    /// short; nothing either protocol carries (keys, document ids, bs58check hashes) comes close.
    package static let defaultMaxLength = 512

    /// Why a string is not Base58.
    package enum DecodingError: Error, Equatable, Sendable {
        /// The string is longer than the caller's limit (UTF-8 bytes).
        case tooLong(length: Int, limit: Int)
        /// A character outside the alphabet, at this byte offset into the UTF-8 string.
        case invalidCharacter(position: Int)
    }

    private static let digitValues: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    /// Encodes bytes; each leading zero byte becomes a leading `1`.
    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        let bytes = Array(bytes)
        let leadingZeros = bytes.prefix { $0 == 0 }.count
        // Base-58 digits, least significant first.
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count * 138 / 100 + 1)
        for byte in bytes[leadingZeros...] {
            var carry = Int(byte)
            for index in digits.indices {
                carry += Int(digits[index]) << 8
                digits[index] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        var characters = [UInt8](repeating: alphabet[0], count: leadingZeros)
        characters.append(contentsOf: digits.reversed().map { alphabet[Int($0)] })
        return String(decoding: characters, as: UTF8.self)
    }

    /// Decodes a Base58 string; each leading `1` becomes a leading zero byte.
    package static func decode(
        _ string: some StringProtocol,
        maxLength: Int = defaultMaxLength
    ) throws(DecodingError) -> [UInt8] {
        let characters = Array(string.utf8)
        guard characters.count <= maxLength else { throw .tooLong(length: characters.count, limit: maxLength) }
        let leadingOnes = characters.prefix { $0 == alphabet[0] }.count
        // Bytes, least significant first.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count * 733 / 1000 + 1)
        for (position, character) in characters.enumerated().dropFirst(leadingOnes) {
            let value = digitValues[Int(character)]
            guard value >= 0 else { throw .invalidCharacter(position: position) }
            var carry = Int(value)
            for index in bytes.indices {
                carry += Int(bytes[index]) * 58
                bytes[index] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xff))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: leadingOnes) + bytes.reversed()
    }
}

/// Base58btc (Bitcoin alphabet), used by multibase `z` strings and `did:key`.
public enum Base58 {
    private static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() {
            table[Int(char)] = UInt8(index)
        }
        return table
    }()

    /// Longest input accepted by `decode`; the quadratic algorithm must stay cheap on hostile input.
    public static let maximumDecodedInputLength = 512

    public static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        // Little-endian base-58 digits of the number.
        var digits = [UInt8]()
        for byte in bytes[zeros...] {
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
        let prefix = [UInt8](repeating: alphabet[0], count: zeros)
        return String(decoding: prefix + digits.reversed().map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// Decodes base58btc; each leading `1` is a leading zero byte. Returns nil on any invalid character.
    public static func decode(_ string: some StringProtocol) -> [UInt8]? {
        let input = Array(string.utf8)
        guard input.count <= maximumDecodedInputLength else { return nil }
        let zeros = input.prefix { $0 == alphabet[0] }.count
        // Little-endian base-256 bytes of the number.
        var bytes = [UInt8]()
        for char in input[zeros...] {
            let value = decodeTable[Int(char)]
            if value == 0xFF { return nil }
            var carry = Int(value)
            for index in bytes.indices {
                carry += Int(bytes[index]) * 58
                bytes[index] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }
}

/// Unsigned LEB128 varints as used by multicodec prefixes.
public enum Varint {
    /// Reads one varint from the start of `bytes`; nil when truncated, over-long or not minimal.
    public static func decode(_ bytes: some Collection<UInt8>) -> (value: UInt64, length: Int)? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var length = 0
        for byte in bytes {
            length += 1
            // Multiformats caps varints at 9 bytes (63 bits).
            if length > 9 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // A trailing zero byte would make a second encoding of the same number.
                if byte == 0 && length > 1 { return nil }
                return (value, length)
            }
            shift += 7
        }
        return nil
    }

    public static func encode(_ value: UInt64) -> [UInt8] {
        var rest = value
        var output = [UInt8]()
        repeat {
            var byte = UInt8(rest & 0x7F)
            rest >>= 7
            if rest != 0 { byte |= 0x80 }
            output.append(byte)
        } while rest != 0
        return output
    }
}

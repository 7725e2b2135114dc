/// A credential (secret key, token, proof) that must never reach a log, a crash report or a
/// `dump`: every textual form is a redaction such as `Secret(…, 64 bytes)`. Read the value
/// explicitly with `bytes` or `text` where it is actually needed.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The UTF-8 bytes of `text`.
    public init(text: String) { bytes = Array(text.utf8) }

    /// The value as text (lossy for bytes that are not UTF-8).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public var count: Int { bytes.count }
    public var isEmpty: Bool { bytes.isEmpty }

    public var description: String { "Secret(…, \(bytes.count) bytes)" }
    public var debugDescription: String { description }
    /// No children: `dump` and reflection-based printing see only the redaction.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

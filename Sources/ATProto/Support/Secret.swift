/// A credential (secret key, token, proof) that must never reach a log, a crash report or a
/// `dump`: every textual form is a redaction such as `Secret(…, 64 bytes)`. Read the value
/// explicitly with `bytes` or `text` where it is actually needed.
package struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    package let bytes: [UInt8]

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The UTF-8 bytes of `text`.
    package init(text: String) { bytes = Array(text.utf8) }

    /// The value as text (lossy for bytes that are not UTF-8).
    package var text: String { String(decoding: bytes, as: UTF8.self) }

    package var count: Int { bytes.count }
    package var isEmpty: Bool { bytes.isEmpty }

    package var description: String { "Secret(…, \(bytes.count) bytes)" }
    package var debugDescription: String { description }
    /// No children: `dump` and reflection-based printing see only the redaction.
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

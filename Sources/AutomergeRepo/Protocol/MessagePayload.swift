import NIOCore

/// A byte-string field of a received message: a copy of its own, or a slice of the frame it came
/// in, which it then keeps alive. Equal and hashed by its bytes, whichever it is.
struct MessagePayload: Hashable, Sendable {
    private enum Storage: Sendable {
        case array([UInt8])
        case frame(ByteBuffer)
    }

    private let storage: Storage

    init(_ bytes: [UInt8]) { storage = .array(bytes) }

    /// `slice` of a received frame, not copied.
    init(frameSlice slice: ByteBuffer) { storage = .frame(slice) }

    var count: Int {
        switch storage {
        case .array(let bytes): return bytes.count
        case .frame(let slice): return slice.readableBytes
        }
    }

    /// Whether the bytes are the frame's own (not copied).
    var isFrameSlice: Bool {
        if case .frame = storage { return true }
        return false
    }

    /// The bytes as an array (a copy when they are the frame's).
    var bytes: [UInt8] {
        switch storage {
        case .array(let bytes): return bytes
        case .frame(let slice): return Array(slice.readableBytesView)
        }
    }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        switch storage {
        case .array(let bytes): return try bytes.withUnsafeBytes(body)
        case .frame(let slice): return try slice.withUnsafeReadableBytes(body)
        }
    }

    static func == (lhs: MessagePayload, rhs: MessagePayload) -> Bool {
        lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in left.elementsEqual(right) } }
    }

    func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

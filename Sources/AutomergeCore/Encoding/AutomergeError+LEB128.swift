package import ByteEncodings

extension AutomergeError {
    /// The Automerge error for a failed LEB128 read of the field `what`.
    @usableFromInline
    init(_ error: LEB128.DecodingError, what: @autoclosure () -> String) {
        switch error {
        case .truncated: self = .unexpectedEnd(what: what())
        case .overlong: self = .overlongLEB128
        case .tooLarge: self = .leb128TooLarge
        }
    }
}

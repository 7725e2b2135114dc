/// A refused DPoP request, carrying the RFC 9449 / RFC 6750 error code and its challenge (docs/auth.md §4.5).
package struct DPoPError: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        /// No credentials at all.
        case missingCredentials = "missing_credentials"
        case invalidRequest = "invalid_request"
        case invalidDPoPProof = "invalid_dpop_proof"
        case useDPoPNonce = "use_dpop_nonce"
        case invalidToken = "invalid_token"
    }

    package let code: Code
    /// Short reason, for logs and `error_description`; never contains the proof or token.
    package let message: String
    /// Whether the failing request used the Bearer scheme (changes the `invalid_token` challenge).
    package let bearerScheme: Bool

    package init(_ code: Code, _ message: String, bearerScheme: Bool = false) {
        self.code = code
        self.message = message
        self.bearerScheme = bearerScheme
    }

    package var httpStatus: Int { code == .invalidRequest ? 400 : 401 }

    /// The exact `WWW-Authenticate` value for this error, or nil for a 400.
    package var wwwAuthenticate: String? {
        switch code {
        case .missingCredentials:
            "Bearer, DPoP algs=\"ES256\""
        case .invalidRequest:
            nil
        case .invalidDPoPProof:
            WWWAuthenticate.challenge(
                scheme: "DPoP",
                parameters: [("error", "invalid_dpop_proof"), ("error_description", message), ("algs", "ES256")]
            )
        case .useDPoPNonce:
            WWWAuthenticate.challenge(
                scheme: "DPoP",
                parameters: [("error", "use_dpop_nonce"), ("error_description", "Resource server requires nonce in DPoP proof")]
            )
        case .invalidToken:
            bearerScheme
                ? WWWAuthenticate.challenge(scheme: "Bearer", parameters: [("error", "invalid_token"), ("error_description", message)])
                : WWWAuthenticate.challenge(
                    scheme: "DPoP",
                    parameters: [("error", "invalid_token"), ("error_description", message), ("algs", "ES256")]
                )
        }
    }

    package var description: String { "\(code.rawValue): \(message)" }
}

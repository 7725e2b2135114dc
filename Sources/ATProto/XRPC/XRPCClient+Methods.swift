/// The `com.atproto` calls the CLI needs.
extension XRPCClient {
    package struct Session: Decodable, Sendable, Equatable {
        package let did: String
        package let handle: String
        package let accessJwt: String
        package let refreshJwt: String
    }

    package struct RecordRef: Decodable, Sendable, Equatable {
        package let uri: String
        package let cid: String
    }

    package struct Record: Decodable, Sendable, Equatable {
        package let uri: String
        package let cid: String?
        package let value: JSONValue
    }

    private struct CreateSessionInput: Encodable {
        let identifier: String
        let password: String
        let authFactorToken: String?
    }

    private struct PutRecordInput: Encodable {
        let repo: String
        let collection: String
        let rkey: String
        let record: JSONValue
        let validate: Bool?
        let swapRecord: String?
    }

    private struct ResolveHandleOutput: Decodable {
        let did: String
    }

    /// `com.atproto.server.createSession` (app-password login). The returned tokens are secrets.
    package func createSession(identifier: String, password: String, authFactorToken: String? = nil) async throws(XRPCError) -> Session {
        try await procedure(
            "com.atproto.server.createSession",
            input: CreateSessionInput(identifier: identifier, password: password, authFactorToken: authFactorToken),
            as: Session.self
        )
    }

    /// `com.atproto.repo.putRecord`; `swapRecord` makes the write conditional on the current CID.
    package func putRecord(
        repo: DID,
        collection: NSID,
        rkey: String,
        record: JSONValue,
        validate: Bool? = nil,
        swapRecord: String? = nil
    ) async throws(XRPCError) -> RecordRef {
        guard case .object = record else { throw .invalidRequest("record must be a JSON object") }
        return try await procedure(
            "com.atproto.repo.putRecord",
            input: PutRecordInput(
                repo: repo.string,
                collection: collection.string,
                rkey: rkey,
                record: record,
                validate: validate,
                swapRecord: swapRecord
            ),
            as: RecordRef.self
        )
    }

    /// `com.atproto.repo.getRecord`; a missing record is `.server(status: 400, error: "RecordNotFound", …)`.
    package func getRecord(repo: DID, collection: NSID, rkey: String) async throws(XRPCError) -> Record {
        try await query(
            "com.atproto.repo.getRecord",
            parameters: [("repo", repo.string), ("collection", collection.string), ("rkey", rkey)],
            as: Record.self
        )
    }

    /// `com.atproto.identity.resolveHandle`.
    package func resolveHandle(_ handle: Handle) async throws(XRPCError) -> DID {
        let output = try await query("com.atproto.identity.resolveHandle", parameters: [("handle", handle.string)], as: ResolveHandleOutput.self)
        do {
            return try DID(output.did)
        } catch {
            throw .invalidResponse("resolveHandle returned an invalid DID")
        }
    }
}

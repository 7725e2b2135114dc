import Foundation

@testable import ATProto

/// `service-auth/tokens.json` and `context.json`.
struct ServiceAuthFixtures {
    struct Token: Decodable {
        struct Alternative: Decodable {
            struct Config: Decodable {
                let strict_low_s: Bool?
                let accept_bare_aud: Bool?
                let exp_leeway_s: Double?
                let did_document_after_refresh: String?
            }
            let config: Config
            let expect: String
        }
        let name: String
        let owner: String
        let token: String
        let expect: String
        let expect_alt: [Alternative]?
    }

    struct Context: Decodable {
        struct Account: Decodable {
            let did: String
            let did_document_file: String
            let did_key: String
            let private_key_hex: String
        }
        struct ReplaySequence: Decodable {
            let tokens: [String]?
            let expect: [String]?
        }
        let now: Double
        let service_did: String
        let service_id: String
        let lxm: String
        let accounts: [String: Account]
    }

    let tokens: [Token]
    let context: Context

    init() throws {
        tokens = try Fixtures.decode([Token].self, "service-auth/tokens.json")
        context = try Fixtures.decode(Context.self, "service-auth/context.json")
    }

    func document(_ file: String, did: String) throws -> DIDDocument {
        let bytes = Array(try Fixtures.data("service-auth/\(file)"))
        return try DIDDocument(json: bytes, expectedDID: try DID(did))
    }

    func account(_ name: String) throws -> Context.Account {
        guard let account = context.accounts[name] else { throw FixtureError.missing(name) }
        return account
    }

    enum FixtureError: Error {
        case missing(String)
    }

    /// A verifier configured as `default_config`, plus optional overrides from `expect_alt`.
    func verifier(
        owner: String,
        alternative: Token.Alternative.Config? = nil,
        clock: any AuthClock = ManualClock(Fixtures.now)
    ) async throws -> (ServiceAuthVerifier, InMemoryDIDResolver) {
        let account = try account(owner)
        var configuration = ServiceAuthConfiguration(
            ownerDID: try DID(account.did),
            serviceDID: try DID(context.service_did),
            serviceID: context.service_id
        )
        if let alternative {
            if let value = alternative.strict_low_s { configuration.strictLowS = value }
            if let value = alternative.accept_bare_aud { configuration.acceptBareAudience = value }
            if let value = alternative.exp_leeway_s { configuration.expirationLeeway = value }
        }
        let resolver = InMemoryDIDResolver(documents: [try document(account.did_document_file, did: account.did)])
        if let rotated = alternative?.did_document_after_refresh {
            await resolver.setAfterRefresh(try document("did-docs/\(rotated).did.json", did: account.did))
        }
        return (ServiceAuthVerifier(configuration: configuration, resolver: resolver, clock: clock), resolver)
    }
}

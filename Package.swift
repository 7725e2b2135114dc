// swift-tools-version:6.1
import PackageDescription

// Imports are internal unless a file says otherwise, and a member is visible only through an import
// of its own module (Hummingbird's settings). Every declaration shared between targets is `package`:
// the libraries have no users outside this package.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "groundmist-sync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "groundmist-sync", targets: ["groundmist-sync"]),
        .executable(name: "groundmist-bench", targets: ["groundmist-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "4.0.0"..<"5.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in the graph through async-http-client; named here for the Caddy test's wss:// client.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
    ],
    targets: [
        // Byte-level text and integer encodings shared by the protocol modules: Base58, hex, LEB128.
        .target(name: "ByteEncodings", swiftSettings: swiftSettings),
        // Automerge binary format and sync protocol: pure value types, no I/O.
        .target(
            name: "AutomergeCore",
            dependencies: [
                "ByteEncodings",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // automerge-repo: wire protocol (CBOR, messages), document ids, storage, the repo.
        .target(
            name: "AutomergeRepo",
            dependencies: [
                "ByteEncodings",
                "AutomergeCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                // Blocking file I/O runs on an NIOThreadPool, off Swift's cooperative threads.
                .product(name: "NIOPosix", package: "swift-nio"),
                // Received frames are decoded in the transport's ByteBuffer.
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // ATProto identity (DIDs, handles, NSIDs, keys), service-auth and DPoP verification,
        // DID resolution and the few XRPC client calls the CLI needs.
        .target(
            name: "ATProto",
            dependencies: [
                "ByteEncodings",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The server: configuration, HTTP routes, WebSocket transport.
        .target(
            name: "GroundmistSync",
            dependencies: [
                "AutomergeRepo",
                "AutomergeCore",
                "ATProto",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "groundmist-sync",
            dependencies: [
                "ByteEncodings",
                "AutomergeCore",
                "AutomergeRepo",
                "GroundmistSync",
                "ATProto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every test target shares: the shared-fixture location (and skipping without it),
        // timeouts, temporary directories, log capture, a manual clock, the protocol test client's
        // in-memory link, a fake PLC directory and the test owner and DPoP app it serves.
        .target(
            name: "TestSupport",
            dependencies: [
                "AutomergeRepo",
                "AutomergeCore",
                "ATProto",
                "ByteEncodings",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        // Benchmarks (Benchmarks/, release builds printing figures; README "Benchmarks").
        // Swift client peers that drive a server: the load generator and the document transfer.
        .target(
            name: "BenchmarkClients",
            dependencies: [
                "AutomergeCore", "AutomergeRepo", "GroundmistSync",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/BenchmarkClients",
            swiftSettings: swiftSettings
        ),
        // `groundmist-bench SUBCOMMAND`: server (load, one large document, many documents), inspect,
        // write, atproto and attack (the issue-14 memory attacks against a `groundmist-sync serve` child).
        .executableTarget(
            name: "groundmist-bench",
            dependencies: [
                "BenchmarkClients", "ByteEncodings", "AutomergeCore", "AutomergeRepo", "ATProto", "GroundmistSync",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/groundmist-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ByteEncodingsTests", dependencies: ["ByteEncodings", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AutomergeCoreTests",
            dependencies: [
                "AutomergeCore", "ByteEncodings", "TestSupport",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "AutomergeRepoTests", dependencies: ["AutomergeRepo", "AutomergeCore", "ByteEncodings", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ATProtoTests",
            dependencies: [
                "ATProto",
                "TestSupport",
                "ByteEncodings",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GroundmistSyncTests",
            dependencies: [
                "GroundmistSync",
                "TestSupport",
                "AutomergeRepo",
                "AutomergeCore",
                "ATProto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GroundmistSyncCLITests",
            dependencies: [
                "groundmist-sync",
                "TestSupport",
                "BenchmarkClients",
                "AutomergeCore",
                "AutomergeRepo",
                "ATProto",
                "GroundmistSync",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Seeded, time-boxed fuzzing of every network and data-directory parser, each batch in a
        // child process: `swift run -c release groundmist-fuzz --count 1000000`.
        .executableTarget(
            name: "groundmist-fuzz",
            dependencies: [
                "ByteEncodings", "AutomergeCore", "AutomergeRepo", "ATProto", "GroundmistSync",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "GroundmistFuzzTests", dependencies: ["groundmist-fuzz", "AutomergeCore", "AutomergeRepo", "GroundmistSync", "TestSupport"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)

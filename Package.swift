// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "groundmist-sync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "groundmist-sync", targets: ["groundmist-sync"]),
        .library(name: "AutomergeCore", targets: ["AutomergeCore"]),
        .library(name: "AutomergeRepo", targets: ["AutomergeRepo"]),
        .library(name: "ATProto", targets: ["ATProto"]),
        .library(name: "GroundmistSync", targets: ["GroundmistSync"]),
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
        // Automerge binary format and sync protocol: pure value types, no I/O.
        .target(
            name: "AutomergeCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // automerge-repo: wire protocol (CBOR, messages), document ids, storage, the repo.
        .target(
            name: "AutomergeRepo",
            dependencies: [
                "AutomergeCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                // Blocking file I/O runs on an NIOThreadPool, off Swift's cooperative threads.
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // ATProto identity (DIDs, handles, NSIDs, keys), service-auth and DPoP verification,
        // DID resolution and the few XRPC client calls the CLI needs.
        .target(
            name: "ATProto",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
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
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "groundmist-sync",
            dependencies: [
                "AutomergeCore",
                "AutomergeRepo",
                "GroundmistSync",
                "ATProto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Release-mode timing of signature verification: `swift run -c release atproto-bench`.
        .executableTarget(name: "atproto-bench", dependencies: ["ATProto"]),
        .executableTarget(name: "automerge-write-bench", dependencies: ["AutomergeCore"]),
        .testTarget(name: "AutomergeCoreTests", dependencies: ["AutomergeCore"]),
        .testTarget(name: "AutomergeRepoTests", dependencies: ["AutomergeRepo", "AutomergeCore"]),
        .testTarget(
            name: "ATProtoTests",
            dependencies: [
                "ATProto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "GroundmistSyncTests",
            dependencies: [
                "GroundmistSync",
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
            ]
        ),
        .testTarget(
            name: "GroundmistSyncCLITests",
            dependencies: [
                "groundmist-sync",
                "AutomergeCore",
                "AutomergeRepo",
                "ATProto",
                "GroundmistSync",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Seeded, time-boxed fuzzing of every network and data-directory parser, each batch in a
        // child process: `swift run -c release groundmist-fuzz --count 1000000`.
        .executableTarget(
            name: "groundmist-fuzz",
            dependencies: [
                "AutomergeCore", "AutomergeRepo", "ATProto", "GroundmistSync",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The issue-14 memory attacks against a `groundmist-sync serve` child process, on loopback:
        // `swift build -c release --product groundmist-sync && swift run -c release groundmist-attack-bench`.
        .executableTarget(
            name: "groundmist-attack-bench",
            dependencies: [
                "AutomergeCore",
                "AutomergeRepo",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "GroundmistFuzzTests", dependencies: ["groundmist-fuzz", "AutomergeCore", "AutomergeRepo", "GroundmistSync"]),
    ],
    swiftLanguageModes: [.v6]
)

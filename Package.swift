// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "groundmist-sync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "groundmist-sync", targets: ["groundmist-sync"]),
        .library(name: "AutomergeCore", targets: ["AutomergeCore"]),
        .library(name: "AutomergeRepo", targets: ["AutomergeRepo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "4.0.0"..<"5.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
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
        // automerge-repo wire protocol (CBOR, messages), document ids and NodeFS key layout: pure, no I/O.
        .target(
            name: "AutomergeRepo",
            dependencies: [
                "AutomergeCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "groundmist-sync",
            dependencies: [
                "AutomergeCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "AutomergeCoreTests", dependencies: ["AutomergeCore"]),
        .testTarget(name: "GroundmistSyncCLITests", dependencies: ["groundmist-sync", "AutomergeCore"]),
        .testTarget(name: "AutomergeRepoTests", dependencies: ["AutomergeRepo", "AutomergeCore"]),
    ],
    swiftLanguageModes: [.v6]
)

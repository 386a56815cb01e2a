// swift-tools-version:6.0
import PackageDescription

// Language mode 5 for our own targets: the code is thread-based (blocking work on threads of its own,
// see README "Design"), and Swift 6's Sendable checking adds noise there without catching real races.
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "crsync",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "crsync", targets: ["crsync"]),
        .executable(name: "crsync-devserver", targets: ["crsync-devserver"]),
        .executable(name: "crsync-bench", targets: ["crsync-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "Transport", dependencies: ["CCurl"], swiftSettings: v5),
        .target(name: "CloudreveAPI", dependencies: ["Transport"], swiftSettings: v5),
        .target(name: "SyncEngine", dependencies: [
            "CloudreveAPI", "CSQLite", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),
        .executableTarget(name: "crsync", dependencies: [
            "SyncEngine", "CloudreveAPI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),
        .target(name: "CloudreveDevServer", dependencies: [
            // Transport (libcurl): a slave node's calls to its master and back (`--policy remote`).
            "Transport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], swiftSettings: v5),
        .executableTarget(name: "crsync-devserver", dependencies: [
            "CloudreveDevServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),
        // Runs the built crsync and crsync-devserver side by side with a plain client (README "Performance").
        .executableTarget(name: "crsync-bench", dependencies: ["Transport", "CSQLite"], swiftSettings: v5),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "CloudreveDevServer"], swiftSettings: v5),
        .testTarget(name: "CloudreveAPITests", dependencies: ["CloudreveAPI", "CloudreveDevServer"], swiftSettings: v5),
        .testTarget(name: "SyncEngineTests", dependencies: ["SyncEngine", "CloudreveDevServer"], swiftSettings: v5),
        .testTarget(name: "CloudreveDevServerTests", dependencies: ["CloudreveDevServer", "Transport"], swiftSettings: v5),
        .testTarget(name: "EndToEndTests", dependencies: ["Transport", "CloudreveAPI"], swiftSettings: v5),
    ]
)

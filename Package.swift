// swift-tools-version: 6.2
import PackageDescription

/// One set of compiler settings for every target (modelled on hummingbird's Package.swift).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "liaison",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "liaisond", targets: ["liaisond"]),
        .executable(name: "liaisonctl", targets: ["liaisonctl"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "LiaisonCore", targets: ["LiaisonCore"]),
        .library(name: "LiaisonClient", targets: ["LiaisonClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LiaisonCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LiaisonStore",
            dependencies: [
                "Postgres", "LiaisonCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LiaisonServer",
            dependencies: [
                "LiaisonCore", "LiaisonStore", "Postgres",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LiaisonClient",
            dependencies: [
                "LiaisonCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "liaisond",
            dependencies: [
                "LiaisonServer", "LiaisonStore", "LiaisonCore", "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The pure parts of `liaisonctl bench` (settings, statistics, histograms, report), so
        // that LiaisonBenchTests can test them without the executable.
        .target(
            name: "LiaisonBench",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "liaisonctl",
            dependencies: [
                "LiaisonClient", "LiaisonStore", "LiaisonCore", "Postgres", "LiaisonBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Replays fuzz/corpus in a normal build; scripts/fuzz.sh builds it as a libFuzzer target.
        .executableTarget(
            name: "LiaisonFuzz",
            dependencies: ["LiaisonServer"],
            // Extern: @_extern(c) declares libFuzzer's driver entry point (FuzzEntry.swift).
            swiftSettings: swiftSettings + [.enableExperimentalFeature("Extern")]
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiaisonBenchTests",
            dependencies: ["LiaisonBench"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiaisonCoreTests",
            dependencies: ["LiaisonCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["LiaisonStore", "Postgres"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiaisonStoreTests",
            dependencies: ["LiaisonStore", "LiaisonCore", "Postgres", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiaisonServerTests",
            dependencies: [
                "LiaisonServer", "LiaisonStore", "LiaisonCore", "Postgres", "TestSupport", "LiaisonClient",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiaisonClientTests",
            dependencies: [
                "LiaisonClient", "LiaisonCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["LiaisonStore", "LiaisonCore", "Postgres", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)

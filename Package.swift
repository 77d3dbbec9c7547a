// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "lsr",
    products: [
        .library(name: "LSR", targets: ["LSR"]),
        .executable(name: "lsr", targets: ["LSRCLI"]),
        // The C ABI (`lsr_…` functions) for bindings: the Python package loads it.
        .library(name: "lsr_c", type: .dynamic, targets: ["LSRCAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .target(name: "LSRVectors"),
        .target(name: "LSRSuccinct"),
        .target(name: "LSRFormats", dependencies: ["LSRVectors", "CZstd", "CSQLite", "CLSRKernels"]),
        .target(name: "LSRIndexBuilder", dependencies: ["LSRVectors", "LSRFormats", "LSRSuccinct", "LSRText", "CLSRKernels"]),
        .target(name: "CLSRKernels"),
        .target(name: "LSRSearch", dependencies: ["LSRVectors", "LSRFormats", "LSRSuccinct", "LSRText", "CLSRKernels", "COpenBLAS"]),
        .target(name: "LSREvaluation", dependencies: ["LSRVectors", "LSRFormats"]),
        .target(name: "LSRText", dependencies: ["LSRVectors", "LSRFormats"]),
        .target(name: "LSRSweep", dependencies: ["LSRSearch", "LSREvaluation"]),
        .target(
            name: "LSR",
            dependencies: ["LSRVectors", "LSRFormats", "LSRIndexBuilder", "LSRSearch", "LSREvaluation", "LSRSweep", "LSRText"]),
        .target(name: "LSRCAPI", dependencies: ["LSR"]),
        .executableTarget(
            name: "LSRCLI",
            dependencies: ["LSR", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "LSRTestSupport", dependencies: ["LSR"], path: "Tests/LSRTestSupport"),
        .testTarget(name: "LSRVectorsTests", dependencies: ["LSRVectors", "LSRTestSupport"]),
        .testTarget(name: "LSRSuccinctTests", dependencies: ["LSRSuccinct"]),
        .testTarget(name: "LSRFormatsTests", dependencies: ["LSRFormats", "LSRTestSupport"]),
        .testTarget(name: "LSRIndexBuilderTests", dependencies: ["LSR", "LSRTestSupport", "CLSRKernels"], exclude: ["Fixtures"]),
        .testTarget(name: "LSRSearchTests", dependencies: ["LSR", "LSRTestSupport"]),
        .testTarget(
            name: "LSREvaluationTests", dependencies: ["LSREvaluation", "LSRFormats", "LSRTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "LSRTextTests", dependencies: ["LSRText", "LSRFormats", "LSRTestSupport"]),
        .testTarget(name: "LSRCLITests", dependencies: ["LSR", "LSRTestSupport"]),
        .testTarget(name: "LSRRobustnessTests", dependencies: ["LSR", "LSRTestSupport"]),
    ]
)

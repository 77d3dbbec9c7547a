// swift-tools-version:6.0
// libFuzzer targets for lsr's parsers and index loader. They link only when built with
// `-sanitize=fuzzer`; use ./run, which builds them and runs each over its seed corpus.
import PackageDescription

let package = Package(
    name: "lsr-fuzz",
    dependencies: [.package(name: "lsr", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzJSONLVectors", dependencies: ["FuzzSupport", .product(name: "LSR", package: "lsr")]),
        .executableTarget(name: "FuzzBinaryVectors", dependencies: ["FuzzSupport", .product(name: "LSR", package: "lsr")]),
        .executableTarget(name: "FuzzRelevanceFiles", dependencies: ["FuzzSupport", .product(name: "LSR", package: "lsr")]),
        .executableTarget(name: "FuzzIndexLoader", dependencies: ["FuzzSupport", .product(name: "LSR", package: "lsr")]),
        .executableTarget(name: "FuzzTokenizer", dependencies: ["FuzzSupport", .product(name: "LSR", package: "lsr")]),
        .executableTarget(name: "FuzzDenseMatrix", dependencies: ["FuzzSupport", .product(name: "LSR", package: "lsr")]),
        .executableTarget(name: "FuzzCollectionManifest", dependencies: ["FuzzSupport", .product(name: "LSR", package: "lsr")]),
        .executableTarget(name: "FuzzPresets", dependencies: ["FuzzSupport", .product(name: "LSR", package: "lsr")]),
    ]
)

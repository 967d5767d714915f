// swift-tools-version: 6.0
// DINO, built by hand: a reference core that reads like the math, a SIMD core that is fast,
// and notebook-style lessons on top. The folder layout is the architecture (see README.md).
import Foundation
import PackageDescription

// The SIMD core is only fast when the compiler may use AVX2 + FMA: without it `addingProduct`
// becomes a call per lane (~100x slower). `-target-cpu x86-64-v3` is rejected by swiftc, the
// clang flag below is accepted and portable across every x86-64-v3 machine. Never -march=native.
let fast: [SwiftSetting] = {
    #if arch(x86_64)
    return [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
    #else
    return []
    #endif
}()

// The 512-bit build of the SIMD core's sources: AVX-512 F/BW/DQ/VL (x86-64-v4) and the
// condition that selects 16-float vectors and the wider GEMM tile. Only ever run after CPUID
// says the CPU has AVX-512 (SIMDCore.SIMDPath), so the binary still runs on AVX2-only CPUs.
let wide: [SwiftSetting] = {
    #if arch(x86_64)
    return [.unsafeFlags(["-Xcc", "-march=x86-64-v4"]), .define("DINO_AVX512")]
    #else
    return []
    #endif
}()

// One executable per lesson, from one table (argument-parser's Examples/ wiring). The list is
// static on purpose: SwiftPM caches a manifest's evaluation by its text, so a list computed
// from the file system would go stale when a lesson folder is added.
let lessons = [
    "01-views", "02-temperature", "03-centering", "04-cross-entropy", "05-ema-teacher",
    "06-vit", "07-dino-training", "08-collapse", "09-emerging-properties", "10-kernel-ladder",
]
let lessonDependencies: [Target.Dependency] = [
    "DINOCore", "ReferenceCore", "SIMDCore", "KernelCheck", "Benchmarks", "DINOPlot", "DINOData", "DINOModel",
    "DINOLesson",
]

let testTargets: [(String, [Target.Dependency])] = [
    ("DINOCoreTests", ["DINOCore", "ReferenceCore", "SIMDCore", "SIMDCoreAVX2", "SIMDCoreAVX512", "SIMDCoreAVX512OnAVX2"]),
    ("ParityTests", ["DINOCore", "KernelCheck", "Benchmarks", "SIMDCore"]),
    ("LossTests", ["DINOCore", "ReferenceCore", "SIMDCore", "DINOModel"]),
    ("TrainerTests", ["DINOCore", "SIMDCore", "DINOData", "DINOModel"]),
    ("DataTests", ["DINOCore", "DINOData", "DINOPlot"]),
    ("ModelTests", ["DINOCore", "ReferenceCore", "SIMDCore", "KernelCheck", "DINOModel", "DINOData"]),
    ("LessonSmokeTests", []),
]

let package = Package(
    name: "DINOByHand",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dino", targets: ["dino"]),
        .library(name: "DINOModel", targets: ["DINOModel"]),
    ] + lessons.map { .executable(name: "lesson\($0)", targets: ["lesson\($0)"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "DINOCore", swiftSettings: fast),
        .target(name: "ReferenceCore", dependencies: ["DINOCore"], swiftSettings: fast),
        // The SIMD core: one set of sources compiled three times (Sources/SIMDCoreAVX512 and
        // Sources/SIMDCoreAVX512OnAVX2 hold symbolic links to Sources/SIMDCoreAVX2), and a thin
        // SIMDCore that picks one at run time (CPUID, DINO_ISA).
        .target(name: "SIMDCoreAVX2", dependencies: ["DINOCore"], swiftSettings: fast),
        .target(name: "SIMDCoreAVX512", dependencies: ["DINOCore"], swiftSettings: wide),
        .target(
            name: "SIMDCoreAVX512OnAVX2", dependencies: ["DINOCore"],
            swiftSettings: fast + [.define("DINO_AVX512"), .define("DINO_ON_AVX2")]),
        .systemLibrary(name: "CCPUID", path: "Sources/CCPUID"),
        .target(name: "SIMDCore", dependencies: ["DINOCore", "SIMDCoreAVX2", "SIMDCoreAVX512", "SIMDCoreAVX512OnAVX2", "CCPUID"], swiftSettings: fast),
        // Verification: the parity registry of both cores and the golden-vector runner.
        .target(
            name: "KernelCheck", dependencies: ["DINOCore", "ReferenceCore", "SIMDCore", "DINOModel"],
            swiftSettings: fast),
        // Every benchmark: kernels, the matmul against OpenBLAS, the model, the training step,
        // the augmentation, the FMA peak. The CLI only parses flags and calls these.
        .target(
            name: "Benchmarks",
            dependencies: ["DINOCore", "ReferenceCore", "SIMDCore", "KernelCheck", "DINOModel", "DINOData", "DINOPlot"],
            swiftSettings: fast),
        .target(name: "DINOPlot", dependencies: ["DINOCore"], swiftSettings: fast),
        .target(name: "DINOData", dependencies: ["DINOCore", "CLibPNG", "CTurboJPEG", "CZlib"], swiftSettings: fast),
        .target(
            name: "DINOModel", dependencies: ["DINOCore", "DINOData", "DINOPlot"],
            swiftSettings: fast),
        .target(
            name: "DINOLesson", dependencies: ["DINOCore", "DINOPlot", "SIMDCore"],
            swiftSettings: fast),
        .executableTarget(
            name: "dino",
            dependencies: [
                "DINOCore", "ReferenceCore", "SIMDCore", "KernelCheck", "Benchmarks", "DINOPlot", "DINOData",
                "DINOModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: fast),
    ]
        + lessons.map {
            .executableTarget(
                name: "lesson\($0)", dependencies: lessonDependencies, path: "Lessons/\($0)",
                exclude: [], swiftSettings: fast)
        }
        + testTargets.map { name, deps in
            .testTarget(
                name: name,
                dependencies: name == "LessonSmokeTests"
                    ? lessons.map { .target(name: "lesson\($0)") } + ["dino"] : deps,
                swiftSettings: fast)
        },
    swiftLanguageModes: [.v5]
)

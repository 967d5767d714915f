import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: kernels (reference vs SIMD).",
        subcommands: [BenchKernels.self, BenchTrain.self])
}

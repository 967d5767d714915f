import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Benchmarks: kernels (reference vs SIMD), matmul vs OpenBLAS, ViT+head forward/backward, whole training steps, augmentation.",
        subcommands: [
            BenchPeak.self, BenchKernels.self, BenchBLAS.self, BenchTrain.self, BenchAugment.self,
            BenchModel.self,
        ])
}

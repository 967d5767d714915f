import DINOCore
import Benchmarks
import KernelCheck
import SIMDCore
import Testing

/// Every case of the parity registry, on one and two SIMD threads and on every SIMD path this CPU
/// can run (the same cases `dino check` prints): avx2 and avx512-on-avx2 everywhere, avx512 where
/// the CPU has it.
@Suite("reference vs SIMD")
struct ParityTests {
    @Test(arguments: ParityCase.all)
    func agreesOnOneThread(_ parityCase: ParityCase) {
        for path in SIMDPath.supported {
            let report = SIMDPath.with(path) { compare(parityCase, threads: 1) }
            #expect(report.passed, "\(path.rawValue): \(report)")
        }
    }

    @Test(arguments: ParityCase.all)
    func agreesOnTwoThreads(_ parityCase: ParityCase) {
        for path in SIMDPath.supported {
            let report = SIMDPath.with(path) { compare(parityCase, threads: 2) }
            #expect(report.passed, "\(path.rawValue): \(report)")
        }
    }

    /// The scoped path really selects a different build: row sums add 8-lane partial sums in one
    /// build and 16-lane ones in the other, so on random rows the last bits differ (each within
    /// the parity tolerance of the reference).
    @Test func eachPathRunsItsOwnBuild() {
        var rng = SplitMix64(seed: 3)
        let x = Tensor(shape: [16, 1000], (0..<16_000).map { _ in Float.random(in: -1...1, using: &rng) })
        func sums(_ path: SIMDPath) -> [Float] {
            SIMDPath.with(path) {
                var s = Tensor(shape: [16])
                SIMDKernels.rowSums(x, into: &s)
                return s.storage
            }
        }
        #expect(sums(.avx2) != sums(.avx512OnAVX2))
        #expect(SIMDPath.with(.avx2) { SIMDPath.current } == .avx2)
    }

    /// Completeness: every requirement of `KernelSet` is called by at least one parity case and
    /// by at least one case of the kernel benchmark (run on `RecordingKernels`, which computes
    /// nothing and notes each call). One test, because the recorder is shared.
    @Test func everyKernelHasAParityCaseAndABenchCase() {
        var parity = Set<KernelOp>(), bench = Set<KernelOp>()
        for c in ParityCase.all {
            parity.formUnion(RecordingKernels.recording { _ = c.run(RecordingKernels.self, seed: 1) })
        }
        for c in BenchCase.kernelSuite {
            bench.formUnion(RecordingKernels.recording { c.prepare(RecordingKernels.self)() })
        }
        let noParity = KernelOp.allCases.filter { !parity.contains($0) }.map(\.rawValue)
        let noBench = KernelOp.allCases.filter { !bench.contains($0) }.map(\.rawValue)
        #expect(noParity.isEmpty, "kernels without a parity case: \(noParity)")
        #expect(noBench.isEmpty, "kernels without a bench case: \(noBench)")
    }

    /// The comparison itself must be able to fail: a deliberately wrong candidate is caught.
    @Test func detectsAWrongResult() {
        let reference = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        var wrong = reference
        wrong[1, 2] += 1e-3
        let c = compareOutput("C", reference: reference, candidate: wrong, tolerance: .elementwise)
        #expect(!c.passed)
        #expect(c.worstIndex == [1, 2])
        let shape = compareOutput(
            "C", reference: reference, candidate: reference.reshaped([3, 2]), tolerance: .elementwise)
        #expect(!shape.passed && shape.shapeError != nil)
        var nan = reference
        nan[0, 0] = .nan
        #expect(!compareOutput("C", reference: reference, candidate: nan, tolerance: .elementwise).passed)
    }
}

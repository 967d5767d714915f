import DINOCore
import DINOModel
import Foundation
import ReferenceCore
import SIMDCore
import Testing

/// The BatchNorm head's running statistics: PyTorch's update rule, the official buffer names and
/// order, the int64 counter on disk, and loading (old files without them, partial ones refused).
@Suite("BatchNorm running statistics")
struct BatchNormStatisticsTests {
    func features(rows: Int, cols: Int, seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: [rows, cols], (0..<(rows * cols)).map { _ in rng.uniform(-2, 3) })
    }

    /// Two forwards: running = 0.9·running + 0.1·batch, with the unbiased variance (n − 1),
    /// computed here independently from the head's own hidden pre-activations.
    @Test func twoForwardsFollowPyTorchsUpdate() throws {
        var head = try DINOHead<ReferenceKernels>(
            DINOHeadConfig(inDim: 6, outDim: 5, hiddenDim: 4, bottleneckDim: 3, batchNorm: true), seed: 3)
        #expect(head.runningStatistics.count == 2)
        #expect(head.runningStatistics[0].mean.storage == [0, 0, 0, 0])
        #expect(head.runningStatistics[0].variance.storage == [1, 1, 1, 1])
        var expectedMean = [Double](repeating: 0, count: 4), expectedVar = [Double](repeating: 1, count: 4)
        for (step, rows) in [7, 2].enumerated() {
            let x = features(rows: rows, cols: 6, seed: UInt64(step + 10))
            // The first Linear's output, by hand: x·W0ᵀ + b0.
            let w = head.parameters[0].value, b = head.parameters[1].value
            for c in 0..<4 {
                let column = (0..<rows).map { r in
                    (0..<6).reduce(Double(b.storage[c])) {
                        $0 + Double(x.storage[r * 6 + $1]) * Double(w.storage[c * 6 + $1])
                    }
                }
                let mean = column.reduce(0, +) / Double(rows)
                let unbiased = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rows - 1)
                expectedMean[c] = 0.9 * expectedMean[c] + 0.1 * mean
                expectedVar[c] = 0.9 * expectedVar[c] + 0.1 * unbiased
            }
            _ = head.forward(x)
            #expect(head.runningStatistics[0].batches == step + 1)
            for c in 0..<4 {
                #expect(abs(Double(head.runningStatistics[0].mean.storage[c]) - expectedMean[c]) < 1e-5)
                #expect(abs(Double(head.runningStatistics[0].variance.storage[c]) - expectedVar[c]) < 1e-5)
            }
        }
        // The second norm moved too, and the output did not depend on any of it.
        #expect(head.runningStatistics[1].mean.storage != [0, 0, 0, 0])
    }

    @Test func bothCoresKeepTheSameStatistics() throws {
        let config = DINOHeadConfig(inDim: 9, outDim: 6, hiddenDim: 17, bottleneckDim: 4, batchNorm: true)
        var reference = try DINOHead<ReferenceKernels>(config, seed: 8)
        var simd = try DINOHead<SIMDKernels>(config, seed: 8)
        for seed in 0..<3 as Range<UInt64> {
            let x = features(rows: 13, cols: 9, seed: seed)
            _ = reference.forward(x)
            _ = simd.forward(x)
        }
        for (a, b) in zip(reference.runningStatistics, simd.runningStatistics) {
            #expect(a.batches == 3 && b.batches == 3)
            for (u, v) in zip(a.mean.storage + a.variance.storage, b.mean.storage + b.variance.storage) {
                #expect(abs(u - v) <= 1e-5 * max(1, abs(u)))
            }
        }
    }

    /// The official order (each norm's weight, bias, running_mean, running_var,
    /// num_batches_tracked), the counter as a 0-dimensional I64, and a faithful round trip.
    @Test func savedUnderTheOfficialNamesAndReloaded() throws {
        var net = try tinyNetwork(ReferenceKernels.self, batchNorm: true)
        var rng = SplitMix64(seed: 4)
        let crops = (0..<2).map { _ in
            Tensor(shape: [3, 2, 12, 12], (0..<(3 * 2 * 144)).map { _ in rng.uniform(-1, 1) })
        }
        _ = net.forward(crops)
        _ = net.forward(crops)
        let names = net.stateDict.map(\.name)
        let i = try #require(names.firstIndex(of: "head.mlp.1.bias"))
        #expect(
            Array(names[(i + 1)...(i + 4)]) == [
                "head.mlp.1.running_mean", "head.mlp.1.running_var", "head.mlp.1.num_batches_tracked",
                "head.mlp.3.weight",
            ])
        #expect(names.contains("head.mlp.4.num_batches_tracked"))
        let folder = temporaryFolder("bn-stats")
        try net.save(to: folder + "/teacher.safetensors")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/teacher.safetensors")))
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any]
        let counter = try #require(header?["head.mlp.1.num_batches_tracked"] as? [String: Any])
        #expect(counter["dtype"] as? String == "I64")
        #expect((counter["shape"] as? [Int]) == [])
        var fresh = try tinyNetwork(ReferenceKernels.self, batchNorm: true, seed: 12)
        try fresh.load(from: folder + "/teacher.safetensors")
        #expect(fresh.head.runningStatistics == net.head.runningStatistics)
        #expect(fresh.head.runningStatistics[1].batches == 2)
        #expect(fresh.stateDict.map(\.tensor) == net.stateDict.map(\.tensor))
    }

    @Test func oldFilesLoadAndPartialOnesAreRefused() throws {
        let net = try tinyNetwork(ReferenceKernels.self, batchNorm: true)
        let all = Dictionary(uniqueKeysWithValues: net.stateDict.map { ($0.name, $0.tensor) })
        var fresh = try tinyNetwork(ReferenceKernels.self, batchNorm: true, seed: 12)
        // Written before the statistics were saved: parameters only.
        try fresh.load(
            all.filter { !$0.key.contains("running_") && !$0.key.hasSuffix("num_batches_tracked") })
        #expect(fresh.head.runningStatistics[0].batches == 0)
        var partial = all
        partial["head.mlp.4.running_var"] = nil
        let missing = checkpointError { try fresh.load(partial) }
        #expect(missing?.description.contains("head.mlp.4.running_var") == true)
        var wrong = all
        wrong["head.mlp.1.num_batches_tracked"] = Tensor(shape: [1], [3])
        let shape = checkpointError { try fresh.load(wrong) }
        #expect(shape?.description.contains("num_batches_tracked") == true)
    }
}

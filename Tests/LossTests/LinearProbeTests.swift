import DINOCore
import DINOModel
import SIMDCore
import Testing

@Suite("linear probe")
struct LinearProbeTests {
    /// Three Gaussian blobs in 5-D: the probe separates them; shuffled labels stay near chance.
    @Test func separatesBlobsAndNotNoise() {
        var rng = SplitMix64(seed: 21)
        func blobs(_ n: Int) -> (Tensor, [Int]) {
            var x = Tensor(shape: [n, 5]), labels: [Int] = []
            for i in 0..<n {
                let c = i % 3
                labels.append(c)
                for j in 0..<5 { x[i, j] = rng.normal() * 0.5 + (j == c ? 3 : 0) }
            }
            return (x, labels)
        }
        let (train, trainLabels) = blobs(600), (test, testLabels) = blobs(300)
        let probe = LinearProbe(epochs: 10, batchSize: 64, learningRate: 1e-2)
        let good = probe.run(
            SIMDKernels.self, train: train, trainLabels: trainLabels, test: test, testLabels: testLabels,
            classes: 3)
        #expect(good.top1 > 95, "blobs: \(good.top1)%")
        var shuffled = trainLabels
        shuffled.shuffle(using: &rng)
        let noise = probe.run(
            SIMDKernels.self, train: train, trainLabels: shuffled, test: test, testLabels: testLabels,
            classes: 3)
        // 300 test points, chance 33%: a probe that learned nothing real stays well below 60%.
        #expect(noise.top1 < 60, "shuffled labels: \(noise.top1)%")
    }
}

import DINOCore
import Foundation

/// The weighted k-NN classifier of `eval_knn.py` (Wu et al. 2018), the evaluation DINO reports:
///
///     f̂ = f / max(‖f‖₂, 1e-12)                       train and test features
///     sim = test f̂ · train f̂ᵀ                         cosine similarities
///     scores[t, c] = Σ_{the k most similar train rows j with label c} exp(sim[t, j] / T)
///     prediction[t] = argmax_c scores[t, c]
///
/// T = 0.07 and k = 20 in the paper (10, 100, 200 also reported). Top-5 counts a test row when
/// its label is among the min(5, k) classes with the most votes (the official fix of top-5 for
/// k < 5: with k neighbours at most k classes get a vote).
public enum WeightedKNN {
    public struct Result: Sendable {
        /// `[Nte, classes]` summed votes.
        public var scores: Tensor
        public var predictions: [Int]
        /// Percentage of test rows whose prediction equals its label (nil without labels).
        public var top1: Double?
        /// Percentage of test rows whose label is among the min(5, k) classes with the most votes
        /// (nil without labels). Classes tied on votes rank as the prediction does, the lower class
        /// first; a class no neighbour voted for is never among them. Always ≥ `top1`.
        public var top5: Double? = nil
    }

    /// Classifies `test` rows against the labelled `train` rows on kernel core `K`.
    /// - Parameters:
    ///   - train: `[Ntr, D]` features; trainLabels: Ntr labels in `0..<classes`.
    ///   - test: `[Nte, D]`; testLabels: Nte labels, or nil.
    ///   - chunk: test rows per similarity block (memory: chunk × Ntr floats).
    public static func classify<K: KernelSet>(
        _ kernels: K.Type, train: Tensor, trainLabels: [Int], test: Tensor, testLabels: [Int]? = nil, k: Int,
        temperature: Float = 0.07, classes: Int, chunk: Int = 256
    ) throws -> Result {
        guard train.cols == test.cols else {
            throw ModelError("k-NN: train features have \(train.cols) dims, test \(test.cols)")
        }
        guard trainLabels.count == train.rows else {
            throw ModelError("k-NN: \(trainLabels.count) labels for \(train.rows) train rows")
        }
        if let bad = trainLabels.first(where: { !(0..<classes).contains($0) }) {
            throw ModelError("k-NN: train label \(bad) is outside 0..<\(classes)")
        }
        guard k >= 1 && k <= train.rows else {
            throw ModelError("k-NN: k = \(k) needs 1...\(train.rows) train rows")
        }
        if let testLabels, testLabels.count != test.rows {
            throw ModelError("k-NN: \(testLabels.count) labels for \(test.rows) test rows")
        }
        var trainUnit = Tensor(shape: [train.rows, train.cols]), trainNorms = Tensor(shape: [train.rows])
        K.l2Normalize(
            train.reshaped([train.rows, train.cols]), epsilon: 1e-12, into: &trainUnit, norms: &trainNorms)
        var scores = Tensor(shape: [test.rows, classes])
        var predictions = [Int](repeating: 0, count: test.rows)
        var top5Hits = 0
        let ranks = min(5, k)
        var start = 0
        while start < test.rows {
            let rows = min(chunk, test.rows - start)
            let block = test.reshaped([test.rows, test.cols]).rowSlice(start..<(start + rows))
            var unit = Tensor(shape: [rows, test.cols]), norms = Tensor(shape: [rows])
            K.l2Normalize(block, epsilon: 1e-12, into: &unit, norms: &norms)
            var sim = Tensor(shape: [rows, train.rows])
            K.matmul(unit, trainUnit, layout: .nt, bias: nil, accumulate: false, into: &sim)
            for r in 0..<rows {
                let neighbours = topK(sim.storage[(r * train.rows)..<((r + 1) * train.rows)], k: k)
                let t = start + r
                for (j, s) in neighbours {
                    scores.storage[t * classes + trainLabels[j]] += Float(exp(Double(s / temperature)))
                }
                var best = 0
                for c in 1..<max(classes, 1)
                where scores.storage[t * classes + c] > scores.storage[t * classes + best] { best = c }
                predictions[t] = best
                if let label = testLabels?[t], (0..<classes).contains(label) {
                    let votes = scores.storage[t * classes + label]
                    var ahead = 0
                    for c in 0..<classes {
                        let v = scores.storage[t * classes + c]
                        if v > votes || (v == votes && c < label) { ahead += 1 }
                    }
                    // ahead == 0: the label is the prediction (also when every vote underflowed to 0).
                    if ahead == 0 || (votes > 0 && ahead < ranks) { top5Hits += 1 }
                }
            }
            start += rows
        }
        let top1 = testLabels.map { labels in
            100 * Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
        }
        let top5 = testLabels.map { 100 * Double(top5Hits) / Double(max($0.count, 1)) }
        return Result(scores: scores, predictions: predictions, top1: top1, top5: top5)
    }

    /// The `k` largest values of a row with their positions, largest first (insertion into a
    /// sorted list of k: one comparison per element once the list is full).
    static func topK(_ row: ArraySlice<Float>, k: Int) -> [(index: Int, value: Float)] {
        var best: [(index: Int, value: Float)] = []
        best.reserveCapacity(k + 1)
        for (offset, value) in row.enumerated() {
            if best.count == k, let last = best.last, value <= last.value { continue }
            var i = best.count
            while i > 0 && best[i - 1].value < value { i -= 1 }
            best.insert((offset, value), at: i)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}

import DINOCore
import DINOData
import Foundation

/// Mean Jaccard of each head's thresholded attention with the object masks, in percent.
public struct JaccardResult: Sendable, Equatable, Codable {
    /// The best head's mean Jaccard (the paper's Table 7 reports the best head).
    public var best: Double
    /// Every head of the last block, in order.
    public var perHead: [Double]

    public init(perHead: [Double]) {
        self.perHead = perHead
        best = perHead.max() ?? .nan
    }

    enum CodingKeys: String, CodingKey { case best, perHead = "per_head" }
}

/// The paper's segmentation measure (Sec. 4.2.1, Table 7; `visualize_attention.py`'s threshold):
/// for every head of the last block, the [CLS] query's attention over the patches, the mask of
/// the patches that hold 60% of its mass (sort, cumulative sum, keep the top), upsampled by
/// nearest neighbour to the image, and its Jaccard index |A ∩ M| / |A ∪ M| with the object mask
/// M, averaged over the images. Patches of a ragged edge (image side not a multiple of the
/// patch) are never kept, as the official code crops the image to whole patches.
public enum Segmentation {
    /// Jaccard of a thresholded `[g·g]` patch mask, upsampled by `patch`, with a `[S·S]` mask.
    public static func jaccard(
        kept: [Bool], gridRows gh: Int, gridCols gw: Int, patch p: Int,
        mask: ArraySlice<UInt8>, height: Int, width: Int
    ) -> Double {
        var intersection = 0, union = 0
        var i = mask.startIndex
        for y in 0..<height {
            for x in 0..<width {
                let inMask = mask[i] != 0
                i += 1
                let py = y / p, px = x / p
                let inAttention = py < gh && px < gw && kept[py * gw + px]
                if inMask && inAttention { intersection += 1 }
                if inMask || inAttention { union += 1 }
            }
        }
        return Double(intersection) / Double(max(union, 1))
    }

    /// The measure over the first `limit` images of `data` (which must have masks).
    /// - Throws: ``ModelError`` when the dataset has no masks.
    public static func evaluate<K: KernelSet>(
        _ backbone: inout ViT<K>, data: Dataset, normalization: Normalization, limit: Int? = nil,
        mass: Float = 0.6, batchSize: Int = 250
    ) throws -> JaccardResult {
        guard let masks = data.masks else {
            throw ModelError(
                "\(data.name): no object masks, so no Jaccard (use scenes or an idx: folder with t10k-masks-idx3-ubyte.gz)"
            )
        }
        let p = backbone.config.patchSize
        guard data.height >= p, data.width >= p else {
            throw ModelError(
                "\(data.name): \(data.width)x\(data.height) images are smaller than one \(p)-px patch")
        }
        let n = min(limit ?? data.count, data.count)
        let gh = data.height / p, gw = data.width / p, plane = data.height * data.width
        let heads = backbone.config.heads
        var sums = [Double](repeating: 0, count: heads)
        let eval = Evaluator()
        var start = 0
        while start < n {
            let count = min(batchSize, n - start), base = start
            var images = eval.normalized(data.tensor(Array(start..<(start + count))), normalization)
            if gh * p != data.height || gw * p != data.width {
                images = cropped(images, rows: gh * p, cols: gw * p)
            }
            _ = backbone.forward(images, training: false)
            let probs = backbone.lastBlockAttention(queries: 1)
            var partial = [Double](repeating: 0, count: count * heads)
            let chunks = max(1, min(Threads.count, count))
            partial.withUnsafeMutableBufferPointer { out in
                let out = out.baseAddress!
                Threads.parallelFor(chunks) { chunk in
                    for b in (chunk * count / chunks)..<((chunk + 1) * count / chunks) {
                        let maps = AttentionMaps.clsMaps(probs, image: b, gridRows: gh, gridCols: gw)
                        let m = masks[((base + b) * plane)..<((base + b + 1) * plane)]
                        for h in 0..<heads {
                            out[b * heads + h] = jaccard(
                                kept: AttentionMaps.mask(maps[h], mass: mass), gridRows: gh, gridCols: gw,
                                patch: p,
                                mask: m, height: data.height, width: data.width)
                        }
                    }
                }
            }
            for b in 0..<count { for h in 0..<heads { sums[h] += partial[b * heads + h] } }
            start += count
        }
        return JaccardResult(perHead: sums.map { 100 * $0 / Double(max(n, 1)) })
    }

    /// The no-model baseline: a centred square covering `fraction` of the image, Jaccard (%)
    /// with the masks of the first `limit` images.
    public static func centredSquare(
        _ data: Dataset, fraction: Double = 0.25, limit: Int? = nil
    ) throws -> Double {
        guard let masks = data.masks else { throw ModelError("\(data.name): no object masks") }
        let side = Int((Double(data.height) * fraction.squareRoot()).rounded())
        let top = (data.height - side) / 2, left = (data.width - side) / 2
        let n = min(limit ?? data.count, data.count), plane = data.height * data.width
        var total = 0.0
        for i in 0..<n {
            var intersection = 0, union = 0
            for y in 0..<data.height {
                for x in 0..<data.width {
                    let inBox = y >= top && y < top + side && x >= left && x < left + side
                    let inMask = masks[i * plane + y * data.width + x] != 0
                    if inBox && inMask { intersection += 1 }
                    if inBox || inMask { union += 1 }
                }
            }
            total += Double(intersection) / Double(max(union, 1))
        }
        return 100 * total / Double(max(n, 1))
    }

    /// The top-left `rows × cols` of every plane of `[B, C, H, W]`.
    static func cropped(_ x: Tensor, rows: Int, cols: Int) -> Tensor {
        let b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        var out = Tensor(shape: [b, c, rows, cols])
        for plane in 0..<(b * c) {
            for y in 0..<rows {
                for xx in 0..<cols {
                    out.storage[(plane * rows + y) * cols + xx] = x.storage[(plane * h + y) * w + xx]
                }
            }
        }
        return out
    }
}

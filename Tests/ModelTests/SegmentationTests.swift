import DINOCore
import DINOData
@testable import DINOModel
import Foundation
import SIMDCore
import Testing

/// The paper's segmentation measure, on cases small enough to check by hand.
@Suite("segmentation (Jaccard)") struct SegmentationTests {
    @Test func jaccardOfAnUpsampledPatchMask() {
        // A 2 × 2 grid of 2-px patches on a 4 × 4 image; the top-left patch kept.
        let kept = [true, false, false, false]
        var mask = [UInt8](repeating: 0, count: 16)
        // The mask: the top two rows (8 pixels). Kept region: 4 pixels, all inside the mask.
        for i in 0..<8 { mask[i] = 1 }
        let j = Segmentation.jaccard(
            kept: kept, gridRows: 2, gridCols: 2, patch: 2, mask: mask[...], height: 4, width: 4)
        #expect(j == 4.0 / 8.0)
        // A ragged 5 × 5 image: the fifth row and column belong to no patch and are never kept.
        var ragged = [UInt8](repeating: 0, count: 25)
        ragged[24] = 1  // the bottom-right pixel only
        let r = Segmentation.jaccard(
            kept: [true, true, true, true], gridRows: 2, gridCols: 2, patch: 2, mask: ragged[...],
            height: 5, width: 5)
        #expect(r == 0)  // 16 kept pixels, 1 mask pixel, no overlap: 0 / 17
        // Nothing kept and nothing masked: 0, not NaN (union clamped to 1).
        #expect(
            Segmentation.jaccard(
                kept: [false], gridRows: 1, gridCols: 1, patch: 2, mask: [0, 0, 0, 0][...], height: 2,
                width: 2) == 0)
    }

    @Test func theSixtyPercentMaskKeepsTheTopPatches() {
        // Mass 0.5, 0.3, 0.15, 0.05: the top two hold 0.8 ≥ 0.6, the top one only 0.5.
        #expect(AttentionMaps.mask([0.05, 0.5, 0.15, 0.3], mass: 0.6) == [false, true, false, true])
    }

    @Test func centredSquareBaseline() throws {
        // 4 × 4 images, 25% square = 2 × 2 in the middle; mask = the same square → 100%.
        var mask = [UInt8](repeating: 0, count: 16)
        for (y, x) in [(1, 1), (1, 2), (2, 1), (2, 2)] { mask[y * 4 + x] = 1 }
        let data = try Dataset(
            name: "m", channels: 1, height: 4, width: 4, pixels: Array(repeating: 0, count: 16), labels: [0],
            classNames: ["x"], masks: mask)
        #expect(try Segmentation.centredSquare(data) == 100)
    }

    @Test func evaluateAgreesWithAHandLoopAndNeedsMasks() throws {
        // A random ViT on random 14-px scenes with random masks: the batched, threaded measure
        // equals a plain loop over images and heads.
        var rng = SplitMix64(seed: 3)
        let n = 7, side = 14
        let pixels = (0..<(n * side * side)).map { _ in UInt8(rng.next() % 256) }
        let masks = (0..<(n * side * side)).map { _ in UInt8(rng.next() % 2) }
        let data = try Dataset(
            name: "r", channels: 1, height: side, width: side, pixels: pixels,
            labels: Array(repeating: 0, count: n),
            classNames: ["x"], masks: masks)
        var vit = try ViT<SIMDKernels>(
            ViTConfig(imageSize: side, patchSize: 7, channels: 1, dim: 16, depth: 2, heads: 2), seed: 1)
        let norm = Normalization(mean: [0.5], std: [0.25])
        let result = try Segmentation.evaluate(&vit, data: data, normalization: norm, batchSize: 3)
        var sums = [0.0, 0.0]
        for i in 0..<n {
            let x = Evaluator().normalized(data.tensor([i]), norm)
            _ = vit.forward(x, training: false)
            let maps = AttentionMaps.clsMaps(
                vit.lastBlockAttention(queries: 1), image: 0, gridRows: 2, gridCols: 2)
            for h in 0..<2 {
                sums[h] += Segmentation.jaccard(
                    kept: AttentionMaps.mask(maps[h]), gridRows: 2, gridCols: 2, patch: 7,
                    mask: masks[(i * 196)..<((i + 1) * 196)], height: side, width: side)
            }
        }
        for h in 0..<2 { #expect(abs(result.perHead[h] - 100 * sums[h] / Double(n)) < 1e-9) }
        #expect(result.best == result.perHead.max())
        let plain = try Dataset(
            name: "plain", channels: 1, height: side, width: side, pixels: pixels,
            labels: Array(repeating: 0, count: n), classNames: ["x"])
        #expect(throws: ModelError.self) {
            _ = try Segmentation.evaluate(&vit, data: plain, normalization: norm)
        }
    }
}

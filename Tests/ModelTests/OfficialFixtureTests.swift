import DINOCore
import DINOData
import DINOModel
import Foundation
import KernelCheck
import ReferenceCore
import SIMDCore
import Testing

/// The folder of cases produced by the official modules (`scripts/make_official_fixtures.py`).
let officialFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/official").path

@Suite("fixtures made by the official DINO modules")
struct OfficialFixtureTests {
    /// The BatchNorm head (forward, backward, running statistics over two forwards) and a
    /// backbone-only ViT/16 checkpoint at a non-square size, on both cores.
    @Test func everyCasePassesOnBothCores() throws {
        let paths = try GoldenRunner.casePaths(in: officialFixtures)
        #expect(paths.count == 2)
        for path in paths {
            let reference = GoldenRunner.run(ReferenceKernels.self, directory: officialFixtures, path: path)
            let simd = GoldenRunner.run(SIMDKernels.self, directory: officialFixtures, path: path)
            #expect(reference.passed, "\(reference)")
            #expect(simd.passed, "\(simd)")
        }
    }

    /// `dino attention --weights … --image …` end to end on a JPEG of the photograph: the
    /// official resize to 480×480 gives a 30×30 grid, each head's CLS attention over the patches
    /// sums to at most 1 (the CLS column is dropped), and the file set is the official one.
    @Test func knnOfAnOfficialLayoutCheckpoint() throws {
        let file = officialFixtures + "/vit_tiny_p16_random.safetensors"
        var model = try TrainedModel<SIMDKernels>(weights: file, heads: 3)
        #expect(model.kind == "backbone" && model.backbone.config.channels == 3)
        #expect(model.normalization.mean == Normalization.imageNet.mean)
        // Gray 28-pixel images: repeated into RGB and made 32×32 squares (a 2×2 patch grid).
        let data = try DataSources.synthetic("synthetic-gray28", count: 96, seed: 5)
        let train = data.prefix(64), test = data.subset(Array(64..<96))
        var options = EvaluationReport.Options(trainSize: nil, testSize: nil, linear: false)
        options.side = 32
        options.ks = [5, 200]
        var lines: [String] = []
        let report = try EvaluationReport.compute(
            SIMDKernels.self, model: &model, train: train, test: test, spec: "synthetic-gray28",
            options: options,
            log: { lines.append($0) })
        #expect(lines.contains { $0.contains("converted to the model's 3 channels") })
        #expect(report.ks == [5, 200] && report.trainImages == 64 && report.testImages == 32)
        for scores in [report.modelScores, report.rawPixelScores, report.randomInitScores] {
            for k in [5, 200] {
                let top1 = try #require(scores.top1[k]), top5 = try #require(scores.top5[k])
                #expect(top1 >= 0 && top1 <= top5 && top5 <= 100)
            }
        }
        // Random labels: no features can do much better than chance, 10%.
        #expect(report.model[200]! < 40)
        // The table with top-5 rows, and the k given.
        let table = report.table(top5: true)
        #expect(table.contains("top-1 and top-5") && table.contains("k=200") && table.contains("  top-5"))
        #expect(!report.table.contains("top-5"))
    }

    @Test func photoAttentionOfAnOfficialLayoutCheckpoint() throws {
        let tensors = try Safetensors.readDictionary(officialFixtures + "/vit_tiny_p16_random.safetensors")
        var vit = try ViT<SIMDKernels>(try ViTConfig.inferred(from: tensors, heads: 3), seed: 0)
        try vit.load(tensors)
        let folder = temporaryFolder("photo")
        let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Lessons/assets/chelsea.png").path
        try Image.readPNG(photo).writeJPEG(folder + "/chelsea.jpg")
        let result = try PhotoAttention(
            &vit, picture: try Image.read(folder + "/chelsea.jpg"), height: 480, width: 480,
            normalization: .imageNet)
        #expect(result.gridRows == 30 && result.gridCols == 30 && result.maps.count == 3)
        for map in result.maps {
            let total = map.reduce(0, +)
            #expect(total > 0 && total <= 1.0001 && map.allSatisfy { $0 >= 0 })
        }
        // A size that is not a multiple of the patch is cropped, as the official script does.
        let odd = try PhotoAttention(
            &vit, picture: try Image.read(folder + "/chelsea.jpg"), height: 70, width: 100,
            normalization: .imageNet)
        #expect(odd.image.height == 64 && odd.image.width == 96 && odd.maps[0].count == 4 * 6)
        let names = try result.write(into: folder + "/out", mass: 0.6)
        #expect(
            names.first == "img.png" && names.contains("attn-head2.png")
                && names.contains("mask_th0.6_head0.png"))
        #expect(try Image.readPNG(folder + "/out/attn-head0.png").width == 480)
    }
}

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

import ArgumentParser
import DINOCore
import DINOData
import DINOModel
import Foundation
import SIMDCore

/// `dino attention`: the last block's CLS attention per head, either on a run's test images
/// (one grid) or, as the official `visualize_attention.py`, on any PNG or JPEG picture.
struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Draw a ViT's last-block CLS attention per head (60% mass threshold).",
        discussion: """
            Two ways to use it:
              dino attention --checkpoint RUN
                  a grid of the run's test images (rows) with the image, one heat map per head (the
                  60%-mass region outlined in cyan) and, on a dataset with object masks, the true mask.
              dino attention --weights FILE.safetensors --image PHOTO.jpg [--arch vit_small]
                  [--image-size 480] --output DIR
                  any picture, resized (bilinear) and normalised with the ImageNet statistics as
                  visualize_attention.py does, through the backbone of FILE (the official layout: a
                  released *_pretrain.pth converted to safetensors, or a teacher written by dino
                  train); DIR gets img.png, attn-head{j}.png, mask_th0.6_head{j}.png and attention.png.
              --checkpoint RUN --image PHOTO does the same with a run's teacher and its own
              normalisation, at its training image size unless --image-size says otherwise.
            The official script's option names work too (--pretrained_weights, --image_path,
            --image_size, --patch_size, --output_dir, --threshold).
            """
    )

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A teacher .safetensors written by dino train, or a run folder.", valueName: "run-or-file"))
    var checkpoint: String?

    @Option(
        name: [.customLong("weights"), .customLong("pretrained_weights"), .customLong("pretrained-weights")],
        help: ArgumentHelp("Backbone weights in the official layout (.safetensors).", valueName: "file"))
    var weights: String?

    @Option(
        name: [.customLong("image"), .customLong("image_path"), .customLong("image-path")],
        help: ArgumentHelp("A PNG or JPEG picture to look at.", valueName: "file"))
    var image: String?

    @Option(
        name: [.customLong("image-size"), .customLong("image_size")], parsing: .upToNextOption,
        help: ArgumentHelp(
            "Resize the picture to S×S, or to H W (official default with --weights: 480).", valueName: "size")
    )
    var imageSize: [Int] = []

    @Option(
        name: [.customLong("arch")],
        help: ArgumentHelp(
            "vit_tiny, vit_small or vit_base: sets the head count of --weights.", valueName: "name"))
    var arch: String = "vit_small"

    @Option(
        name: .long, help: ArgumentHelp("Attention heads of --weights (overrides --arch).", valueName: "n"))
    var heads: Int?

    @Option(
        name: [.customLong("patch-size"), .customLong("patch_size")],
        help: ArgumentHelp("Expected patch size of --weights (checked against the file).", valueName: "p"))
    var patchSize: Int?

    @Option(
        name: .long, help: "Draw test images of this dataset instead of the run's own (scenes, idx:DIR, ...)."
    )
    var dataset: String?

    @Option(name: .long, help: "Number of test images (rows of the grid).")
    var images: Int = 8

    @Option(
        name: [.customLong("mass"), .customLong("threshold")],
        help: "Keep the patches holding this fraction of the attention mass (0 = no threshold).")
    var mass: Float = 0.6

    @Option(
        name: [
            .customLong("out"), .customLong("output_dir"), .customLong("output-dir"), .customLong("output"),
        ],
        help: ArgumentHelp(
            "Output: a PNG for the test-image grid (default plots/attention.png); a folder that does not exist yet with --image.",
            valueName: "path"))
    var output: String?

    @Flag(name: .long, help: "With --image: write into --out even if the folder exists.")
    var overwrite = false

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (checkpoint == nil) != (weights == nil) else {
            throw ValidationError(
                "give exactly one of --checkpoint (a run) and --weights (an official-layout file)")
        }
        if weights != nil && image == nil {
            throw ValidationError("--weights needs --image (a PNG or JPEG to look at)")
        }
        guard (1...64).contains(images) else { throw ValidationError("--images must be between 1 and 64") }
        guard (0..<1).contains(mass) else { throw ValidationError("--mass must lie in [0, 1)") }
        guard imageSize.count <= 2, imageSize.allSatisfy({ (1...4096).contains($0) }) else {
            throw ValidationError("--image-size takes one or two sizes from 1 to 4096 (S, or H W)")
        }
        if image == nil && !imageSize.isEmpty { throw ValidationError("--image-size needs --image") }
        if let heads, !(1...64).contains(heads) { throw ValidationError("--heads must be between 1 and 64") }
        if heads == nil && weights != nil && PhotoAttention.headsOfArchitecture[arch] == nil {
            throw ValidationError(
                "--arch: unknown '\(arch)'; use vit_tiny, vit_small or vit_base, or give --heads")
        }
    }

    func run() throws {
        threads.apply()
        do {
            if let image { try photo(image) } else { try grid() }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func grid() throws {
        let output = output ?? "plots/attention.png"
        let picture = try AttentionMaps.render(
            SIMDKernels.self, checkpoint: checkpoint!, dataset: dataset, images: images,
            mass: mass > 0 ? mass : nil)
        try picture.writePNG(output)
        print(
            "wrote \(output) (\(picture.width)×\(picture.height)): \(images) test images, one column per head"
        )
    }

    private func photo(_ path: String) throws {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let folder = output ?? "attention-\(stem)"
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && !overwrite {
            throw ValidationError(
                "--out: \(folder) already exists; choose another folder or pass --overwrite")
        }
        let picture = try Image.read(path)
        var backbone: ViT<SIMDKernels>
        let normalization: Normalization, source: String
        var size = imageSize
        if let weights {
            let tensors = try Safetensors.readDictionary(weights)
            let h = heads ?? PhotoAttention.headsOfArchitecture[arch]!
            let config: ViTConfig
            do { config = try ViTConfig.inferred(from: tensors, heads: h) } catch let e as CheckpointError {
                throw e.at(weights)
            }
            if let patchSize, patchSize != config.patchSize {
                throw ValidationError(
                    "--patch-size \(patchSize): \(weights) holds a ViT with \(config.patchSize)-pixel patches"
                )
            }
            backbone = try ViT(config, seed: 0)
            do { try backbone.load(tensors) } catch let e as CheckpointError { throw e.at(weights) }
            normalization = .imageNet
            source = weights
            if size.isEmpty { size = [480] }
        } else {
            let trained = try TrainedModel<SIMDKernels>(checkpoint: checkpoint!)
            backbone = trained.backbone
            normalization = trained.normalization
            source = trained.source
            if size.isEmpty { size = [trained.config.globalSize] }
        }
        let (height, width) = (size[0], size.count == 2 ? size[1] : size[0])
        let result = try PhotoAttention(
            &backbone, picture: picture, height: height, width: width, normalization: normalization)
        let names = try result.write(into: folder, mass: mass > 0 ? mass : nil)
        let c = backbone.config
        print(
            "\(source): ViT with \(c.depth) blocks, width \(c.dim), \(c.heads) heads, \(c.patchSize)-pixel patches"
        )
        print(
            "\(path): \(picture.width)×\(picture.height) → \(result.image.width)×\(result.image.height) (\(result.gridRows)×\(result.gridCols) patches)"
        )
        print("wrote \(folder)/: \(names.joined(separator: ", "))")
    }
}

import ArgumentParser
import DINOCore
import DINOData
import DINOModel
import Foundation
import SIMDCore

/// `dino attention`: the trained teacher's last-block CLS attention per head on test images.
struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Draw the teacher's last-block CLS attention per head (60% mass threshold) as a PNG grid.",
        discussion:
            "Rows: test images. Columns: the image, one heat map per head (the 60%-mass region outlined in cyan), and, on a dataset with object masks, the true mask in green."
    )

    @Option(name: .long, help: "A teacher .safetensors written by dino train, or a run folder.")
    var checkpoint: String

    @Option(
        name: .long, help: "Draw test images of this dataset instead of the run's own (scenes, idx:DIR, ...)."
    )
    var dataset: String?

    @Option(name: .long, help: "Number of test images (rows of the grid).")
    var images: Int = 8

    @Option(
        name: .long, help: "Keep the patches holding this fraction of the attention mass (0 = no threshold).")
    var mass: Float = 0.6

    @Option(name: .long, help: "Output PNG.")
    var output: String = "plots/attention.png"

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (1...64).contains(images) else { throw ValidationError("--images must be between 1 and 64") }
        guard (0..<1).contains(mass) else { throw ValidationError("--mass must lie in [0, 1)") }
    }

    func run() throws {
        threads.apply()
        do {
            let picture = try AttentionMaps.render(
                SIMDKernels.self, checkpoint: checkpoint, dataset: dataset, images: images,
                mass: mass > 0 ? mass : nil)
            try picture.writePNG(output)
            print(
                "wrote \(output) (\(picture.width)×\(picture.height)): \(images) test images, one column per head"
            )
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

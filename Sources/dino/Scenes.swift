import ArgumentParser
import DINOCore
import DINOData
import DINOModel
import Foundation

/// `dino scenes`: writes the cluttered scenes as gzipped IDX files in the Fashion-MNIST layout,
/// plus the test masks, so that any tool (or another generator's scenes, read back with
/// `--dataset idx:DIR`) can be evaluated on exactly the same images.
struct Scenes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Write the cluttered Fashion-MNIST scenes (k-NN bank, test set, test masks) as gzipped IDX files.",
        discussion:
            "DIR/train-images-idx3-ubyte.gz and train-labels (one scene per training item, seed 1), DIR/t10k-images, t10k-labels and t10k-masks-idx3-ubyte.gz (one scene per test item, seed 2; masks 0 or 1). Read back with --dataset idx:DIR."
    )

    @Option(
        name: [.customLong("out"), .customLong("output_dir"), .customLong("output-dir")],
        help: ArgumentHelp("Output folder (created; must not hold scenes already).", valueName: "dir"))
    var out: String

    @Option(name: .long, help: "Canvas side in pixels.")
    var size: Int = 56

    @Option(name: .long, help: "Clutter fragments per scene.")
    var clutter: Int = 8

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (28...1024).contains(size) else {
            throw ValidationError("--size must lie in 28...1024 (the items are 28 px), got \(size)")
        }
        guard (0...64).contains(clutter) else {
            throw ValidationError("--clutter must lie in 0...64, got \(clutter)")
        }
    }

    func run() throws {
        threads.apply()
        do {
            let fm = FileManager.default
            let names = [
                "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz", "t10k-masks-idx3-ubyte.gz", "train-masks-idx3-ubyte.gz",
            ]
            if let existing = names.first(where: { fm.fileExists(atPath: out + "/" + $0) }) {
                throw ValidationError(
                    "--out \(out): already holds \(existing); choose a new folder (nothing was overwritten)")
            }
            do { try fm.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw ValidationError(
                    "--out \(out): cannot create the folder (\(error.localizedDescription))")
            }
            let spec = "scenes:\(size),\(clutter)"
            for split in [Dataset.Split.train, .test] {
                let data = try DataSources.load(spec, split: split)
                try data.writeIDX(directory: out, stem: split == .train ? "train" : "t10k")
                let share =
                    data.masks.map { m in Double(m.reduce(0) { $0 + Int($1) }) / Double(m.count) } ?? 0
                print(
                    String(
                        format: "%@: %d scenes of %dx%d, object mask %.1f%% of the canvas", data.name,
                        data.count,
                        size, size, 100 * share))
            }
            print("wrote \(out)/: read it back with --dataset idx:\(out)")
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

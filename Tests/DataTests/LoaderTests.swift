import DINOData
import Foundation
import Testing

@Suite("dataset loaders") struct LoaderTests {
    @Test func idxPairLoadsAsDataset() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pixels = levels(2 * 3 * 4, seed: 9)
        write(
            Gzip.compress(IDXArray(dimensions: [2, 3, 4], values: pixels).encoded(), fileName: "img"),
            to: dir + "/img.gz")
        write(IDXArray(dimensions: [2], values: [1, 4]).encoded(), to: dir + "/lab")
        let d = try Dataset.idx(images: dir + "/img.gz", labels: dir + "/lab")
        #expect(d.count == 2 && d.channels == 1 && d.height == 3 && d.width == 4)
        #expect(d.labels == [1, 4] && d.classCount == 5)
        #expect(d.image(1)[0, 2, 3] == Float(pixels[12 + 11]) / 255)
        #expect(d.tensor([1, 0]).shape == [2, 1, 3, 4])
        #expect(d.subset([1]).labels == [4])
    }

    @Test func idxLoaderErrors() {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        write(IDXArray(dimensions: [2, 3, 4], values: levels(24, seed: 1)).encoded(), to: dir + "/img")
        write(IDXArray(dimensions: [3], values: [0, 1, 2]).encoded(), to: dir + "/lab3")
        write(IDXArray(dimensions: [2], values: [0, 1]).encoded(), to: dir + "/lab2")
        let mismatch = dataError { _ = try Dataset.idx(images: dir + "/img", labels: dir + "/lab3") }
        #expect(
            mismatch?.problem.hasPrefix("label/image count mismatch: 3 labels for 2 images") == true,
            "\(String(describing: mismatch))")
        let swapped = dataError { _ = try Dataset.idx(images: dir + "/lab2", labels: dir + "/img") }
        #expect(swapped?.path == dir + "/lab2" && swapped?.problem.contains("expected 3") == true)
        let badLabel = dataError {
            _ = try Dataset.idx(images: dir + "/img", labels: dir + "/lab2", classNames: ["only"])
        }
        #expect(badLabel?.problem.contains("label 1 of image 1 is outside 0..<1") == true)
        write([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF], to: dir + "/bad.gz")
        let gz = dataError { _ = try Dataset.idx(images: dir + "/bad.gz", labels: dir + "/lab2") }
        #expect(
            gz?.path == dir + "/bad.gz" && gz?.problem.hasPrefix("corrupt gzip") == true,
            "\(String(describing: gz))")
    }

    @Test func cifar10BinaryFormat() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pixels = levels(2 * 3072, seed: 10)
        let records = [3] + pixels[0..<3072] + [9] + pixels[3072...]
        write(Array(records), to: dir + "/data_batch_1.bin")
        let d = try Dataset.cifar10(files: [dir + "/data_batch_1.bin"])
        #expect(d.count == 2 && d.channels == 3 && d.width == 32 && d.labels == [3, 9])
        // Record layout is R plane, G plane, B plane: the same planar order as Image.
        #expect(d.image(1)[1, 5, 7] == Float(pixels[3072 + 1024 + 5 * 32 + 7]) / 255)
        write(Array(records.dropLast(100)), to: dir + "/short.bin")
        let t = dataError { _ = try Dataset.cifar10(files: [dir + "/short.bin"]) }
        #expect(
            t?.problem.hasPrefix("truncated CIFAR-10 file: 6046 bytes is 1 whole") == true,
            "\(String(describing: t))")
        var badLabel = Array(records)
        badLabel[3073] = 12
        write(badLabel, to: dir + "/label.bin")
        #expect(
            dataError { _ = try Dataset.cifar10(files: [dir + "/label.bin"]) }?.problem
                == "record 1: label 12 is not a CIFAR-10 class (0-9)")
        write([], to: dir + "/empty.bin")
        #expect(
            dataError { _ = try Dataset.cifar10(files: [dir + "/empty.bin"]) }?.problem.hasPrefix(
                "empty file") == true)
    }

    @Test func imageFolderWithClassSubfolders() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        for cls in ["cats", "dogs"] {
            try fm.createDirectory(atPath: dir + "/" + cls, withIntermediateDirectories: true)
        }
        let a = Image(width: 4, height: 3, channels: 3, pixels: levels(36, seed: 11).map { Float($0) / 255 })
        let b = Image(width: 4, height: 3, channels: 1, pixels: levels(12, seed: 12).map { Float($0) / 255 })
        try a.writePNG(dir + "/dogs/1.png")
        try a.writePNG(dir + "/cats/b.png")
        try b.writePNG(dir + "/cats/a.png")
        write(Array("notes".utf8), to: dir + "/cats/readme.txt")  // skipped: not a PNG
        // The first image (cats/a.png) is gray, the others RGB: without `channels` all become RGB,
        // as the official loader's convert("RGB") makes them; channels: 1 makes all gray.
        let d = try Dataset.imageFolder(dir)
        #expect(d.classNames == ["cats", "dogs"] && d.labels == [0, 0, 1] && d.channels == 3)
        #expect(d.image(0) == b.rgb && d.image(2) == a)
        #expect(try Dataset.imageFolder(dir, channels: 3).pixels == d.pixels)
        #expect(try Dataset.imageFolder(dir, channels: 1).image(0) == b)
        // A picture of another size is named.
        try Image(width: 5, height: 3, channels: 3).writePNG(dir + "/dogs/2.png")
        let size = dataError { _ = try Dataset.imageFolder(dir, channels: 3) }
        #expect(size?.path == dir + "/dogs/2.png" && size?.problem.hasPrefix("is 5x3") == true)
    }

    @Test func imageFoldersReadJPEGAndResizeOnLoad() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/shirts/more", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/.hidden", withIntermediateDirectories: true)
        let wide = Image(
            width: 12, height: 6, channels: 3, pixels: levels(216, seed: 3).map { Float($0) / 255 })
        let tall = Image(
            width: 5, height: 10, channels: 1, pixels: levels(50, seed: 4).map { Float($0) / 255 })
        try wide.writeJPEG(dir + "/shirts/b.JPG")
        try tall.writePNG(dir + "/shirts/more/a.png")
        try wide.writePNG(dir + "/.hidden/skipped.png")
        write(Array("notes".utf8), to: dir + "/shirts/notes.txt")
        // Unlabelled: every picture under the folder, sub-folders included, sorted by path.
        let images = try Dataset.unlabelledImages(dir, size: 4)
        #expect(images.count == 2 && images.width == 4 && images.height == 4 && images.channels == 3)
        #expect(images.labels == [0, 0] && images.classNames == ["unlabelled"])
        // The picture a.png made a square as torchvision's Resize(4) + CenterCrop(4) would, then RGB.
        let square = tall.centreSquare(4)
        #expect(images.image(1) == Image(width: 4, height: 4, channels: 3, pixels: quantised(square.rgb)))
        // Without a size, pictures of different sizes are refused, naming the file and the fix.
        let mixed = dataError { _ = try Dataset.unlabelledImages(dir) }
        #expect(mixed?.path == dir + "/shirts/more/a.png" && mixed?.problem.contains("@SIZE") == true)
        // The same folder as an ImageFolder: one class, its direct pictures only.
        let labelled = try Dataset.imageFolder(dir, size: 4)
        #expect(labelled.classNames == ["shirts"] && labelled.count == 1)
        #expect(
            dataError { _ = try Dataset.unlabelledImages(dir + "/.hidden/none") }?.problem == "no such folder"
        )
        try fm.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        #expect(
            dataError { _ = try Dataset.unlabelledImages(dir + "/empty") }?.problem.hasPrefix(
                "no .png or .jpg")
                == true)
        #expect(
            dataError { _ = try Dataset.unlabelledImages(dir, size: 0) }?.problem.contains("resize") == true)
    }

    @Test func centreSquareIsResizeThenCentreCrop() throws {
        // 6×2 → shorter side 2 is already 2: no resampling, the middle 2 columns are kept.
        let strip = Image(width: 6, height: 2, channels: 1, pixels: (0..<12).map { Float($0) / 16 })
        #expect(strip.centreSquare(2).pixels == [2, 3, 8, 9].map { Float($0) / 16 })
        // 4×8 → 2×4 (bilinear, as Resize), rows 1 and 2 kept.
        let tall = Image(
            width: 4, height: 8, channels: 1, pixels: levels(32, seed: 9).map { Float($0) / 255 })
        let resized = tall.resized(width: 2, height: 4, filter: .bilinear)
        #expect(tall.centreSquare(2).pixels == [2, 3, 4, 5].map { resized.pixels[$0] })
    }

    @Test func imageFolderErrors() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(dataError { _ = try Dataset.imageFolder(dir) }?.problem.hasPrefix("empty folder") == true)
        try FileManager.default.createDirectory(
            atPath: dir + "/empty-class", withIntermediateDirectories: true)
        let e = dataError { _ = try Dataset.imageFolder(dir) }
        #expect(e?.path == dir + "/empty-class" && e?.problem.hasPrefix("empty class folder") == true)
        #expect(dataError { _ = try Dataset.imageFolder(dir + "/missing") }?.problem == "no such folder")
        write(Array("x".utf8), to: dir + "/empty-class/broken.png")
        #expect(dataError { _ = try Dataset.imageFolder(dir) }?.path == dir + "/empty-class/broken.png")
    }

    @Test(
        .enabled(
            if: FileManager.default.fileExists(
                atPath: Dataset.fashionMNISTDirectory + "/t10k-labels-idx1-ubyte.gz")))
    func fashionMNISTTestSplit() throws {
        let d = try Dataset.fashionMNIST(split: .test)
        #expect(d.count == 10_000 && d.width == 28 && d.height == 28 && d.channels == 1 && d.classCount == 10)
        // The test split is balanced: 1000 images per class.
        var perClass = [Int](repeating: 0, count: 10)
        for l in d.labels { perClass[l] += 1 }
        #expect(perClass == [Int](repeating: 1000, count: 10))
        // Pixel statistics match the published normalisation (0.2860, 0.3530) to 2 decimals.
        let (mean, std) = d.channelStatistics()
        #expect(abs(mean[0] - 0.286) < 0.01 && abs(std[0] - 0.353) < 0.01, "mean \(mean) std \(std)")
    }
}

/// `image`'s pixels as a dataset stores them: rounded to 8 bits.
func quantised(_ image: Image) -> [Float] {
    image.pixels.map { Float(UInt8(($0 > 0 ? ($0 < 1 ? $0 : 1) : 0) * 255 + 0.5)) / 255 }
}

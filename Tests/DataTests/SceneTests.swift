import DINOCore
import DINOData
import Foundation
import Testing

/// The cluttered scenes: the recipe, its determinism, and the IDX round trip with masks.
@Suite("scenes") struct SceneTests {
    /// Four 28 × 28 items: item k is a solid square of value 40·(k+1) in rows/cols 4..<24.
    static let items: Dataset = {
        var pixels = [UInt8](repeating: 0, count: 4 * 28 * 28)
        for k in 0..<4 {
            for y in 4..<24 { for x in 4..<24 { pixels[k * 784 + y * 28 + x] = UInt8(40 * (k + 1)) } }
        }
        return try! Dataset(
            name: "squares", channels: 1, height: 28, width: 28, pixels: pixels, labels: [0, 1, 2, 3],
            classNames: ["a", "b", "c", "d"])
    }()

    @Test func theItemIsPastedWholeAndItsMaskIsItsBrightPixels() throws {
        let generator = try SceneGenerator(items: Self.items, config: SceneConfig(size: 56, clutter: 8))
        #expect(generator.maskByte == 26)  // 26/255 > 0.1 ≥ 25/255
        let data = generator.dataset(seed: 5, name: "t")
        #expect(data.count == 4 && data.height == 56 && data.width == 56)
        let masks = try #require(data.masks)
        for i in 0..<4 {
            let mask = masks[(i * 3136)..<((i + 1) * 3136)]
            // Every item is a 20 × 20 square above the threshold: the mask is exactly 400 pixels,
            // and the scene holds the item's own value on all of them (the item replaces clutter).
            #expect(mask.reduce(0) { $0 + Int($1) } == 400, "scene \(i)")
            for (k, m) in mask.enumerated() where m == 1 {
                #expect(data.pixels[i * 3136 + k] == UInt8(40 * (i + 1)))
            }
            #expect(data.labels[i] == i)
        }
    }

    @Test func clutterKeepsTheBrighterPixelAndScenesAreDeterministic() throws {
        let generator = try SceneGenerator(items: Self.items, config: SceneConfig(size: 56, clutter: 8))
        var a = [UInt8](repeating: 0, count: 3136), b = a, m = a
        var r1 = SplitMix64(seed: 9), r2 = SplitMix64(seed: 9)
        a.withUnsafeMutableBufferPointer {
            generator.render(item: 0, rng: &r1, pixels: $0.baseAddress!, mask: nil)
        }
        b.withUnsafeMutableBufferPointer { p in
            m.withUnsafeMutableBufferPointer {
                generator.render(item: 0, rng: &r2, pixels: p.baseAddress!, mask: $0.baseAddress!)
            }
        }
        #expect(a == b)
        // Outside the mask only clutter values (0 or one of the items' 40, 80, 120, 160) appear.
        for k in 0..<3136 where m[k] == 0 { #expect([0, 40, 80, 120, 160].contains(Int(a[k]))) }
        // Clutter is there: 8 fragments of 8 × 8 cut from 20 × 20 squares leave lit pixels outside the item.
        #expect((0..<3136).contains { m[$0] == 0 && a[$0] > 0 })
        // A training epoch's source draws other scenes than another epoch's, the same ones again.
        let e0 = generator.source(seed: 1, epoch: 0), e1 = generator.source(seed: 1, epoch: 1)
        var x = [Float](repeating: 0, count: 3136), y = x, z = x
        x.withUnsafeMutableBufferPointer { e0.copyPixels(of: 2, into: $0.baseAddress!) }
        y.withUnsafeMutableBufferPointer { e0.copyPixels(of: 2, into: $0.baseAddress!) }
        z.withUnsafeMutableBufferPointer { e1.copyPixels(of: 2, into: $0.baseAddress!) }
        #expect(x == y && x != z)
    }

    @Test func idxRoundTripKeepsPixelsLabelsAndMasks() throws {
        let generator = try SceneGenerator(items: Self.items, config: SceneConfig(size: 40, clutter: 3))
        let data = generator.dataset(seed: 2, name: "t")
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try data.writeIDX(directory: dir, stem: "t10k")
        let back = try Dataset.idx(
            images: dir + "/t10k-images-idx3-ubyte.gz", labels: dir + "/t10k-labels-idx1-ubyte.gz",
            masks: dir + "/t10k-masks-idx3-ubyte.gz")
        #expect(back.pixels == data.pixels && back.labels == data.labels && back.masks == data.masks)
        #expect(back.height == 40 && back.width == 40)
        // A subset keeps each image's own mask.
        let sub = data.subset([3, 1])
        #expect(sub.masks.map { Array($0[0..<1600]) } == data.masks.map { Array($0[4800..<6400]) })
    }

    @Test func badMasksAndBadConfigsAreRefusedByName() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let images = IDXArray(dimensions: [2, 3, 3], values: Array(repeating: 7, count: 18))
        write(images.encoded(), to: dir + "/i")
        write(IDXArray(dimensions: [2], values: [0, 1]).encoded(), to: dir + "/l")
        write(
            IDXArray(dimensions: [2, 3, 4], values: Array(repeating: 0, count: 24)).encoded(),
            to: dir + "/wrong-shape")
        write(
            IDXArray(dimensions: [2, 3, 3], values: Array(repeating: 2, count: 18)).encoded(),
            to: dir + "/not-binary")
        for (file, words) in [("wrong-shape", "masks of shape"), ("not-binary", "masks hold 0 or 1")] {
            do {
                _ = try Dataset.idx(images: dir + "/i", labels: dir + "/l", masks: dir + "/" + file)
                Issue.record("\(file) was accepted")
            } catch let error as DataError {
                #expect("\(error)".contains(file) && "\(error)".contains(words), "\(error)")
            }
        }
        #expect(throws: DataError.self) {
            _ = try SceneGenerator(items: Self.items, config: SceneConfig(size: 20))
        }
        #expect(throws: DataError.self) {
            _ = try SceneGenerator(items: Self.items, config: SceneConfig(size: 56, fragment: 30))
        }
    }
}

import DINOData
import Foundation
import Testing

@Suite("PNG read and write") struct PNGTests {
    @Test func grayRoundTripIsExact() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (w, h) = (13, 7)
        let image = Image(
            width: w, height: h, channels: 1, pixels: levels(w * h, seed: 1).map { Float($0) / 255 })
        try image.writePNG(dir + "/gray.png")
        let back = try Image.readPNG(dir + "/gray.png")
        #expect(back == image)
    }

    @Test func rgbRoundTripIsExact() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (w, h) = (9, 11)
        let image = Image(
            width: w, height: h, channels: 3, pixels: levels(3 * w * h, seed: 2).map { Float($0) / 255 })
        try image.writePNG(dir + "/rgb.png")
        let back = try Image.readPNG(dir + "/rgb.png")
        #expect(back == image)
        // Planar layout: pixel (c, y, x) of the file is interleaved sample (y·w + x)·3 + c.
        #expect(back[2, 3, 4] == image.pixels[(2 * h + 3) * w + 4])
    }

    @Test func rgbaDropsAlphaAndKeepsColour() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (w, h) = (5, 4)
        let samples = levels(4 * w * h, seed: 3)
        let rows = (0..<h).map { Array(samples[$0 * 4 * w..<($0 + 1) * 4 * w]) }
        write(handMadePNG(width: w, height: h, colorType: 6, rows: rows), to: dir + "/rgba.png")
        let image = try Image.readPNG(dir + "/rgba.png")
        #expect(image.channels == 3 && image.width == w && image.height == h)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 { #expect(image[c, y, x] == Float(samples[(y * w + x) * 4 + c]) / 255) }
            }
        }
        // Round trip through our writer (RGB) keeps the colour exactly.
        try image.writePNG(dir + "/rgb.png")
        #expect(try Image.readPNG(dir + "/rgb.png") == image)
    }

    @Test func grayAlphaAndSixteenBitGrayAreRead() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ga = handMadePNG(width: 2, height: 1, colorType: 4, rows: [[10, 255, 200, 0]])
        write(ga, to: dir + "/ga.png")
        let image = try Image.readPNG(dir + "/ga.png")
        #expect(image.channels == 1 && image.pixels == [10 / 255, 200 / 255])
        // 16-bit files keep their values (libpng must not gamma-convert them).
        let g16 = handMadePNG(
            width: 2, height: 1, colorType: 0, bitDepth: 16, rows: [[0x80, 0x80, 0xFF, 0xFF]])
        write(g16, to: dir + "/g16.png")
        let wide = try Image.readPNG(dir + "/g16.png")
        #expect(wide.channels == 1 && wide.width == 2)
        #expect(wide.pixels == [128 / 255, 1])  // 0x8080 / 0xffff = 128 / 255 exactly
    }

    @Test func missingFileNamesTheFile() {
        let e = dataError { _ = try Image.readPNG("/nonexistent/cat.png") }
        #expect(e?.path == "/nonexistent/cat.png")
        #expect(e?.problem == "no such file")
    }

    @Test func nonPNGIsRejectedBySignature() {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        write(Array("hello, this is text and not a picture".utf8), to: dir + "/text.png")
        let e = dataError { _ = try Image.readPNG(dir + "/text.png") }
        #expect(e?.path == dir + "/text.png")
        #expect(
            e?.problem.hasPrefix("not a PNG file: signature is 68 65 6c 6c") == true,
            "\(String(describing: e))")
        write([0x89, 0x50], to: dir + "/short.png")
        #expect(
            dataError { _ = try Image.readPNG(dir + "/short.png") }?.problem.contains("only 2 bytes") == true)
    }

    @Test func truncatedAndCorruptPNGsThrow() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = Image(
            width: 40, height: 30, channels: 3, pixels: levels(3600, seed: 4).map { Float($0) / 255 })
        let bytes = [UInt8](try image.encodePNG())
        // Cut inside the image data: the header is fine, the pixels are not all there.
        write(Array(bytes.prefix(bytes.count / 2)), to: dir + "/half.png")
        let half = dataError { _ = try Image.readPNG(dir + "/half.png") }
        #expect(half?.path == dir + "/half.png")
        #expect(
            half?.problem.hasPrefix("truncated or corrupt PNG (40x30)") == true, "\(String(describing: half))"
        )
        // Cut inside the IHDR chunk.
        write(Array(bytes.prefix(20)), to: dir + "/header.png")
        #expect(
            dataError { _ = try Image.readPNG(dir + "/header.png") }?.problem.hasPrefix("corrupt PNG header")
                == true)
        // Flip bytes inside the compressed data: the chunk CRC no longer matches.
        var corrupt = bytes
        for i in 60..<70 { corrupt[i] ^= 0x5A }
        write(corrupt, to: dir + "/corrupt.png")
        #expect(dataError { _ = try Image.readPNG(dir + "/corrupt.png") } != nil)
    }

    @Test func unwritableFolderIsAnError() {
        let image = Image(width: 2, height: 2, channels: 1)
        let e = dataError { try image.writePNG("/nonexistent-folder/x.png") }
        #expect(e?.path == "/nonexistent-folder/x.png")
    }
}

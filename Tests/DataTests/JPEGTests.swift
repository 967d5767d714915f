import DINOData
import Foundation
import Testing

@Suite("JPEG read and write (libjpeg-turbo)") struct JPEGTests {
    /// A smooth picture: JPEG is lossy, so a round trip is close, not exact.
    func smooth(width w: Int, height h: Int, channels: Int) -> Image {
        var pixels: [Float] = []
        for c in 0..<channels {
            for y in 0..<h {
                for x in 0..<w {
                    pixels.append(0.5 + 0.4 * sin(Float(x) / 7 + Float(c)) * cos(Float(y) / 9))
                }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: pixels)
    }

    @Test(arguments: [1, 3]) func roundTripIsClose(channels: Int) throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = smooth(width: 37, height: 23, channels: channels)
        try image.writeJPEG(dir + "/p.jpg", quality: 95)
        let back = try Image.read(dir + "/p.jpg")  // by content, not by name
        #expect(back.width == 37 && back.height == 23 && back.channels == channels)
        let worst = zip(back.pixels, image.pixels).map { abs($0 - $1) }.max()!
        let mean =
            zip(back.pixels, image.pixels).map { abs($0 - $1) }.reduce(0, +) / Float(image.pixels.count)
        #expect(worst < 0.06 && mean < 0.01, "worst \(worst), mean \(mean)")
        // Quality changes the bytes (a real encoder, not a passthrough).
        #expect(try image.encodeJPEG(quality: 20).count < image.encodeJPEG(quality: 95).count)
    }

    @Test func readPicksTheFormatFromTheBytes() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = smooth(width: 8, height: 8, channels: 3)
        try image.writePNG(dir + "/named.jpg")  // a PNG with the wrong extension
        #expect(try Image.read(dir + "/named.jpg") == Image.readPNG(dir + "/named.jpg"))
        write(Array("hello, not a picture".utf8), to: dir + "/text.png")
        #expect(throws: DataError.self) { try Image.read(dir + "/text.png") }
        do { _ = try Image.read(dir + "/text.png") } catch let e as DataError {
            #expect(e.description.contains("text.png") && e.description.contains("neither a PNG"))
        }
        do { _ = try Image.read(dir + "/missing.jpg") } catch let e as DataError {
            #expect(e.description.contains("missing.jpg: no such file"))
        }
    }

    @Test func truncatedAndCorruptFilesNameTheFile() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = [UInt8](try smooth(width: 64, height: 48, channels: 3).encodeJPEG())
        for (name, cut) in [
            ("header.jpg", Array(bytes.prefix(20))),
            ("garbage.jpg", [0xFF, 0xD8, 0xFF] + [UInt8](repeating: 7, count: 200)),
        ] {
            write(cut, to: dir + "/" + name)
            do {
                _ = try Image.read(dir + "/" + name)
                Issue.record("\(name) was read")
            } catch let e as DataError {
                #expect(e.description.hasPrefix(dir + "/" + name + ": "), "\(e)")
                #expect(e.description.contains("JPEG"), "\(e)")
            }
        }
    }
}

import CLibPNG
import DINOCore
import Foundation

/// A picture as the network sees it: `channels` planes (1 = gray, 3 = RGB) of `height × width`
/// Float32 values in [0, 1], stored planar (CHW), the layout of the ViT's `[C, H, W]` input.
///
/// Planar rather than interleaved (HWC, the PNG order) so that every augmentation step and the
/// patch embedding walk one contiguous plane at a time; the PNG reader and writer do the
/// transposition once.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 1 (gray) or 3 (RGB). RGBA and gray+alpha files lose their alpha channel on reading.
    public let channels: Int
    /// `[C, H, W]` row-major: pixel (c, y, x) is `pixels[(c * height + y) * width + x]`.
    public var pixels: [Float]

    /// An image filled with one value per channel (`fill.count == channels`, or one value for all).
    public init(width: Int, height: Int, channels: Int, fill: [Float] = [0]) {
        precondition(width > 0 && height > 0, "Image: size \(width)x\(height) must be positive")
        precondition(channels == 1 || channels == 3, "Image: \(channels) channels (expected 1 or 3)")
        precondition(
            fill.count == 1 || fill.count == channels,
            "Image: \(fill.count) fill values for \(channels) channels")
        self.width = width
        self.height = height
        self.channels = channels
        let plane = width * height
        var pixels = [Float](repeating: 0, count: channels * plane)
        for c in 0..<channels {
            let v = fill.count == 1 ? fill[0] : fill[c]
            for i in 0..<plane { pixels[c * plane + i] = v }
        }
        self.pixels = pixels
    }

    /// An image from planar `[C, H, W]` values.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0, "Image: size \(width)x\(height) must be positive")
        precondition(channels == 1 || channels == 3, "Image: \(channels) channels (expected 1 or 3)")
        precondition(
            pixels.count == channels * width * height,
            "Image: \(pixels.count) values for \(channels)x\(height)x\(width)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image from a `[C, H, W]` tensor (C = 1 or 3), or item `item` of a `[B, C, H, W]` batch.
    public init(_ tensor: Tensor, item: Int = 0) {
        let s = tensor.shape
        precondition(
            s.count == 3 || s.count == 4, "Image(tensor): shape \(s) is not [C, H, W] or [B, C, H, W]")
        let (c, h, w) = (s[s.count - 3], s[s.count - 2], s[s.count - 1])
        let n = c * h * w
        precondition(item >= 0 && item * n < max(tensor.count, 1), "Image(tensor): item \(item) outside \(s)")
        self.init(width: w, height: h, channels: c, pixels: Array(tensor.storage[item * n..<(item + 1) * n]))
    }

    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }

    /// The pixels as a `[C, H, W]` tensor.
    public var tensor: Tensor { Tensor(shape: [channels, height, width], pixels) }

    /// The same picture with 3 channels (a gray image is copied into R, G and B).
    public var rgb: Image {
        if channels == 3 { return self }
        return Image(width: width, height: height, channels: 3, pixels: pixels + pixels + pixels)
    }

    /// The same picture with 1 channel: luma `0.299 R + 0.587 G + 0.114 B` (ITU-R 601-2, PIL's
    /// `convert("L")`).
    public var gray: Image {
        if channels == 1 { return self }
        let plane = width * height
        var out = [Float](repeating: 0, count: plane)
        for i in 0..<plane {
            out[i] = 0.299 * pixels[i] + 0.587 * pixels[plane + i] + 0.114 * pixels[2 * plane + i]
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }
}

/// The 256 8-bit levels as Float, `k / 255` correctly rounded (a table so that every reader,
/// PNG or dataset, gives bit-identical values for the same byte).
let unitLevels: [Float] = (0..<256).map { Float($0) / 255 }

// MARK: - PNG through libpng's simplified API

/// libpng's `PNG_FORMAT_*` values (the macros are spelled out so the code does not depend on
/// how Swift imports them).
private enum PNGFormat {
    static let gray: UInt32 = 0  // PNG_FORMAT_GRAY
    static let grayAlpha: UInt32 = 1  // PNG_FORMAT_GA
    static let rgb: UInt32 = 2  // PNG_FORMAT_RGB
    static let rgba: UInt32 = 3  // PNG_FORMAT_RGBA
    static let colorFlag: UInt32 = 0x02  // PNG_FORMAT_FLAG_COLOR
    static let linearFlag: UInt32 = 0x04  // PNG_FORMAT_FLAG_LINEAR: 16-bit samples
}

private let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

private func pngMessage(_ image: png_image) -> String {
    withUnsafeBytes(of: image.message) { raw in
        let bytes = raw.prefix(while: { $0 != 0 })
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Image {
    /// Reads an 8-bit gray, gray+alpha, RGB, RGBA (or palette) PNG. Alpha is dropped, not
    /// composited (as PIL's `convert("RGB")`). 16-bit files are read at full precision.
    /// - Throws: ``DataError`` naming the file for a missing file, a file that is not a PNG
    ///   (wrong signature), or a truncated or corrupt one (libpng's message).
    public static func readPNG(_ path: String) throws -> Image {
        try decodePNG(fileData(path), name: path)
    }

    /// The bytes of a picture file; ``DataError`` naming it when it is missing or unreadable.
    static func fileData(_ path: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let exists = FileManager.default.fileExists(atPath: path)
            throw DataError(
                path, exists ? "cannot read the file (\(error.localizedDescription))" : "no such file")
        }
    }

    /// Decodes PNG bytes; `name` is used in error messages.
    public static func decodePNG(_ data: Data, name: String) throws -> Image {
        guard data.count >= 8 else {
            throw DataError(
                name, "not a PNG file: only \(data.count) bytes (a PNG starts with an 8-byte signature)")
        }
        guard Array(data.prefix(8)) == pngSignature else {
            let head = data.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw DataError(name, "not a PNG file: signature is \(head), expected 89 50 4e 47 0d 0a 1a 0a")
        }
        // libpng keeps a pointer to the bytes between begin and finish, so both run inside one
        // closure that keeps them alive.
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        var pixels: [Float] = []
        var channels = 0
        let failure: String? = data.withUnsafeBytes { raw -> String? in
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                return "corrupt PNG header: \(pngMessage(image))"
            }
            let color = image.format & PNGFormat.colorFlag != 0
            let wide = image.format & PNGFormat.linearFlag != 0
            channels = color ? 3 : 1
            // Always decode with alpha (GA or RGBA) and drop it ourselves: asking libpng for a
            // format without alpha would composite the picture onto a background instead.
            let stored = channels + 1
            image.format = (color ? PNGFormat.rgba : PNGFormat.grayAlpha) | (wide ? PNGFormat.linearFlag : 0)
            let (w, h) = (Int(image.width), Int(image.height))
            guard w * h <= 1 << 28 else { return "image of \(w)x\(h) pixels is too large" }
            let plane = w * h
            pixels = [Float](repeating: 0, count: channels * plane)
            var finished: Int32 = 0
            if wide {
                // 16-bit files come back as 16-bit values (libpng assumes 16-bit data is linear
                // and leaves it as is) with the colour multiplied by alpha ("associated alpha"
                // in the linear formats): divide it back out. Opaque pixels are exact.
                var buffer = [UInt16](repeating: 0, count: plane * stored)
                finished = buffer.withUnsafeMutableBufferPointer { out in
                    png_image_finish_read(&image, nil, out.baseAddress, Int32(w * stored), nil)
                }
                for i in 0..<plane {
                    let alpha = Float(buffer[i * stored + channels])
                    for c in 0..<channels {
                        let v = alpha > 0 ? Float(buffer[i * stored + c]) / alpha : 0
                        pixels[c * plane + i] = v < 1 ? v : 1
                    }
                }
            } else {
                var buffer = [UInt8](repeating: 0, count: plane * stored)
                finished = buffer.withUnsafeMutableBufferPointer { out in
                    png_image_finish_read(&image, nil, out.baseAddress, Int32(w * stored), nil)
                }
                buffer.withUnsafeBufferPointer { src in
                    pixels.withUnsafeMutableBufferPointer { dst in
                        unitLevels.withUnsafeBufferPointer { level in
                            for c in 0..<channels {
                                for i in 0..<plane { dst[c * plane + i] = level[Int(src[i * stored + c])] }
                            }
                        }
                    }
                }
            }
            return finished != 0 ? nil : "truncated or corrupt PNG (\(w)x\(h)): \(pngMessage(image))"
        }
        png_image_free(&image)
        if let failure { throw DataError(name, failure) }
        let width = Int(image.width)
        let height = Int(image.height)
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// The 8-bit PNG bytes of this image (gray or RGB): values are clamped to [0, 1] and
    /// rounded to the nearest of 256 levels.
    public func encodePNG() throws -> Data {
        let plane = width * height
        var interleaved = [UInt8](repeating: 0, count: channels * plane)
        pixels.withUnsafeBufferPointer { src in
            interleaved.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    for i in 0..<plane {
                        let v = src[c * plane + i]
                        let clamped = v > 0 ? (v < 1 ? v : 1) : 0  // NaN becomes 0
                        dst[i * channels + c] = UInt8(clamped * 255 + 0.5)
                    }
                }
            }
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 3 ? PNGFormat.rgb : PNGFormat.gray
        var size = 0
        // First call measures, second call writes (png_image_write_to_memory's protocol).
        let measured = interleaved.withUnsafeBytes { raw in
            png_image_write_to_memory(&image, nil, &size, 0, raw.baseAddress, Int32(width * channels), nil)
        }
        guard measured != 0, size > 0 else {
            throw DataError(
                "PNG encoder", "cannot encode a \(width)x\(height)x\(channels) image: \(pngMessage(image))")
        }
        var out = [UInt8](repeating: 0, count: size)
        let written = interleaved.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(
                    &image, dst.baseAddress, &size, 0, raw.baseAddress, Int32(width * channels), nil)
            }
        }
        guard written != 0 else {
            throw DataError(
                "PNG encoder", "cannot encode a \(width)x\(height)x\(channels) image: \(pngMessage(image))")
        }
        return Data(out.prefix(size))
    }

    /// Writes an 8-bit PNG atomically (a temporary file renamed over `path`), so a reader never
    /// sees half a picture.
    /// - Throws: ``DataError`` naming `path` if the folder is missing or not writable.
    public func writePNG(_ path: String) throws {
        let data = try encodePNG()
        do {
            try Files.atomicWrite(data, to: path)
        } catch let error as FileError {
            throw DataError(path, "cannot write the PNG: \(error.description)")
        }
    }
}

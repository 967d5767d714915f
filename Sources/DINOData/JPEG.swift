import CTurboJPEG
import DINOCore
import Foundation

/// JPEG through libjpeg-turbo (its TurboJPEG API), and one reader for every picture format the
/// library takes (PNG, JPEG), chosen by the file's first bytes, not by its name.
extension Image {
    /// Whether `data` starts like a JPEG (SOI marker FF D8 FF).
    static func isJPEG(_ data: Data) -> Bool {
        data.count >= 3 && Array(data.prefix(3)) == [0xFF, 0xD8, 0xFF]
    }

    /// Reads a PNG or a JPEG, whatever its extension says.
    /// - Throws: ``DataError`` naming the file: missing, unreadable, neither format, corrupt.
    public static func read(_ path: String) throws -> Image {
        let data = try fileData(path)
        if isJPEG(data) { return try decodeJPEG(data, name: path) }
        if data.count >= 8 && data.first == 0x89 { return try decodePNG(data, name: path) }
        let head = data.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        throw DataError(
            path, "neither a PNG (89 50 4e 47 …) nor a JPEG (ff d8 ff …): the file starts with \(head)")
    }

    /// Reads a JPEG file (baseline or progressive; gray stays 1 channel, colour becomes RGB).
    public static func readJPEG(_ path: String) throws -> Image {
        try decodeJPEG(fileData(path), name: path)
    }

    /// Decodes JPEG bytes with libjpeg-turbo's default (accurate integer) DCT and fancy
    /// upsampling, as PIL does; `name` is used in error messages.
    public static func decodeJPEG(_ data: Data, name: String) throws -> Image {
        guard isJPEG(data) else {
            let head = data.prefix(3).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw DataError(name, "not a JPEG file: it starts with \(head), expected ff d8 ff")
        }
        guard let handle = tjInitDecompress() else { throw DataError(name, "cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        func message() -> String { String(cString: tjGetErrorStr2(handle)) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = data.withUnsafeBytes { raw in
            tjDecompressHeader3(
                handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), &width, &height,
                &subsampling, &colorspace)
        }
        guard header == 0 else { throw DataError(name, "corrupt JPEG header: \(message())") }
        let (w, h) = (Int(width), Int(height))
        guard w > 0, h > 0, w * h <= 1 << 28 else {
            throw DataError(name, "JPEG of \(w)x\(h) pixels is empty or too large")
        }
        let gray = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = gray ? 1 : 3
        var buffer = [UInt8](repeating: 0, count: w * h * channels)
        let status = data.withUnsafeBytes { raw in
            buffer.withUnsafeMutableBufferPointer { out in
                tjDecompress2(
                    handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), out.baseAddress,
                    width, 0, height, gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), 0)
            }
        }
        // A warning (e.g. extraneous bytes after the image) still gives a whole picture; an error
        // (a truncated file) does not.
        if status != 0 && tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue) {
            throw DataError(name, "truncated or corrupt JPEG (\(w)x\(h)): \(message())")
        }
        let plane = w * h
        var pixels = [Float](repeating: 0, count: channels * plane)
        for c in 0..<channels {
            for i in 0..<plane { pixels[c * plane + i] = Float(buffer[i * channels + c]) / 255 }
        }
        return Image(width: w, height: h, channels: channels, pixels: pixels)
    }

    /// The baseline JPEG bytes of this image (gray or RGB, 4:4:4, `quality` 1-100).
    public func encodeJPEG(quality: Int = 95) throws -> Data {
        guard channels == 1 || channels == 3 else {
            throw DataError("JPEG encoder", "cannot encode \(channels) channels (1 or 3)")
        }
        guard let handle = tjInitCompress() else { throw DataError("JPEG encoder", "cannot start") }
        defer { tjDestroy(handle) }
        let plane = width * height
        var interleaved = [UInt8](repeating: 0, count: channels * plane)
        for c in 0..<channels {
            for i in 0..<plane {
                let v = pixels[c * plane + i]
                interleaved[i * channels + c] = UInt8((v > 0 ? (v < 1 ? v : 1) : 0) * 255 + 0.5)
            }
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = interleaved.withUnsafeBufferPointer { src in
            tjCompress2(
                handle, src.baseAddress, Int32(width), 0, Int32(height),
                channels == 1 ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), &out, &size,
                channels == 1 ? Int32(TJSAMP_GRAY.rawValue) : Int32(TJSAMP_444.rawValue),
                Int32(max(1, min(100, quality))),
                0)
        }
        defer { if let out { tjFree(out) } }
        guard status == 0, let out else {
            throw DataError("JPEG encoder", String(cString: tjGetErrorStr2(handle)))
        }
        return Data(bytes: out, count: Int(size))
    }

    /// Writes a JPEG atomically.
    public func writeJPEG(_ path: String, quality: Int = 95) throws {
        let data = try encodeJPEG(quality: quality)
        do { try Files.atomicWrite(data, to: path) } catch let error as FileError {
            throw DataError(path, "cannot write the JPEG: \(error.description)")
        }
    }
}

import DINOData
import Foundation

/// A fresh temporary folder for one test, removed by the caller's `defer`.
func makeTemporaryDirectory(_ tag: String = #function) -> String {
    let safe = tag.filter { $0.isLetter || $0.isNumber }
    let path = FileManager.default.temporaryDirectory.path + "/dino-data-tests-\(safe)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ bytes: [UInt8], to path: String) {
    precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
}

/// A PNG built by hand, independently of libpng's writer: signature, IHDR, one IDAT holding a
/// zlib stream of *stored* (uncompressed) DEFLATE blocks, IEND. Rows are given already packed
/// (`bitDepth` 8 or 16, big-endian samples); every scanline gets filter byte 0 (None).
func handMadePNG(width: Int, height: Int, colorType: UInt8, bitDepth: UInt8 = 8, rows: [[UInt8]]) -> [UInt8] {
    func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) } }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(Gzip.crc32Of(body)))
    }
    var raw: [UInt8] = []
    for row in rows { raw += [0] + row }
    // zlib: CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (check bits: 0x7801 % 31 == 0).
    var zlib: [UInt8] = [0x78, 0x01]
    var offset = 0
    repeat {
        let n = min(65535, raw.count - offset)
        let final: UInt8 = offset + n == raw.count ? 1 : 0
        zlib += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        zlib += raw[offset..<offset + n]
        offset += n
    } while offset < raw.count
    var a = 1
    var b = 0  // Adler-32
    for byte in raw {
        a = (a + Int(byte)) % 65521
        b = (b + a) % 65521
    }
    zlib += be32(b << 16 | a)
    let ihdr = be32(width) + be32(height) + [bitDepth, colorType, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib)
        + chunk("IEND", [])
}

/// Deterministic 8-bit test levels.
func levels(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ seed &* 40503) >> 7) }
}

/// Asserts-free helper: the error's description when `body` throws a DataError, nil otherwise.
func dataError(_ body: () throws -> Void) -> DataError? {
    do { try body() } catch let e as DataError { return e } catch {
        return DataError("?", "unexpected error \(error)")
    }
    return nil
}

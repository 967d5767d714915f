import CZlib
import Foundation

/// gzip (RFC 1952) by hand around zlib's raw inflate: the member header is parsed here, byte by
/// byte, so every optional field is understood and every failure names the file and the offset;
/// zlib only inflates the DEFLATE stream (RFC 1951). The trailer's CRC-32 and length are checked.
public enum Gzip {
    /// Header flags (RFC 1952 §2.3.1).
    static let ftext: UInt8 = 1, fhcrc: UInt8 = 2, fextra: UInt8 = 4, fname: UInt8 = 8, fcomment: UInt8 = 16

    /// What a member header said.
    public struct Header: Sendable, Equatable {
        public var modificationTime: UInt32 = 0
        public var extra: [UInt8]?
        public var fileName: String?
        public var comment: String?
        /// True when the header carried a CRC16 (FHCRC) and it matched.
        public var headerCRCChecked = false
        /// Offset of the DEFLATE data.
        public var dataOffset = 0
    }

    /// True when `bytes` start with the gzip magic number 1f 8b.
    public static func isGzip<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        bytes.count >= 2 && bytes[bytes.startIndex] == 0x1F
            && bytes[bytes.index(after: bytes.startIndex)] == 0x8B
    }

    /// Parses the member header starting at `offset`.
    /// - Throws: ``DataError`` for a wrong magic number, an unknown method, reserved flags, a
    ///   header cut short, or a header CRC that does not match.
    public static func parseHeader(_ bytes: [UInt8], at offset: Int = 0, name: String) throws -> Header {
        var p = offset
        func need(_ n: Int, _ what: String) throws {
            guard p + n <= bytes.count else {
                throw DataError(name, "corrupt gzip: file ends inside the header (\(what) at byte \(p))")
            }
        }
        try need(10, "fixed 10-byte header")
        guard bytes[p] == 0x1F, bytes[p + 1] == 0x8B else {
            throw DataError(
                name,
                String(
                    format: "not gzip: magic number %02x %02x at byte %d, expected 1f 8b",
                    bytes[p], bytes[p + 1], p))
        }
        guard bytes[p + 2] == 8 else {
            throw DataError(name, "corrupt gzip: compression method \(bytes[p + 2]), only 8 (deflate) exists")
        }
        let flags = bytes[p + 3]
        guard flags & 0xE0 == 0 else {
            throw DataError(
                name, String(format: "corrupt gzip: reserved header flag bits set (flags %02x)", flags))
        }
        var header = Header()
        header.modificationTime =
            UInt32(bytes[p + 4]) | UInt32(bytes[p + 5]) << 8 | UInt32(bytes[p + 6]) << 16
            | UInt32(bytes[p + 7]) << 24
        p += 10  // ID1 ID2 CM FLG MTIME(4) XFL OS
        if flags & fextra != 0 {
            try need(2, "FEXTRA length")
            let length = Int(bytes[p]) | Int(bytes[p + 1]) << 8
            p += 2
            try need(length, "FEXTRA field of \(length) bytes")
            header.extra = Array(bytes[p..<p + length])
            p += length
        }
        func zeroTerminated(_ what: String) throws -> String {
            guard let end = bytes[p...].firstIndex(of: 0) else {
                throw DataError(name, "corrupt gzip: \(what) starting at byte \(p) has no terminating zero")
            }
            // ISO 8859-1 (Latin-1) per the RFC.
            let text = String(bytes[p..<end].map { Character(Unicode.Scalar($0)) })
            p = end + 1
            return text
        }
        if flags & fname != 0 { header.fileName = try zeroTerminated("FNAME") }
        if flags & fcomment != 0 { header.comment = try zeroTerminated("FCOMMENT") }
        if flags & fhcrc != 0 {
            try need(2, "FHCRC")
            let stored = UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8
            let actual = UInt16(truncatingIfNeeded: crc32Of(bytes[offset..<p]))
            guard stored == actual else {
                throw DataError(
                    name, String(format: "corrupt gzip: header CRC16 %04x, computed %04x", stored, actual))
            }
            header.headerCRCChecked = true
            p += 2
        }
        header.dataOffset = p
        return header
    }

    /// Decompresses every member of a gzip file (concatenated members are concatenated).
    /// - Throws: ``DataError`` naming `name` for any header problem, corrupt or truncated
    ///   DEFLATE data, a CRC-32 or length mismatch, or trailing bytes that are not a member.
    public static func decompress(_ bytes: [UInt8], name: String) throws -> [UInt8] {
        guard !bytes.isEmpty else { throw DataError(name, "not gzip: the file is empty") }
        var output: [UInt8] = []
        var offset = 0
        // ISIZE of a single member gives the output size (mod 2³²): a good first capacity. A
        // corrupt file can claim anything, so trust it only up to DEFLATE's best ratio (1032:1).
        if bytes.count >= 18 {
            let n = bytes.count
            let isize =
                Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
            output.reserveCapacity(min(isize, 1032 * n))
        }
        var member = 0
        while offset < bytes.count {
            if member > 0 && !isGzip(bytes[offset...]) {
                throw DataError(
                    name,
                    "corrupt gzip: \(bytes.count - offset) bytes after the last member at byte \(offset) are not a gzip member"
                )
            }
            let header = try parseHeader(bytes, at: offset, name: name)
            let start = output.count
            let consumed = try inflateRaw(bytes, from: header.dataOffset, appendingTo: &output, name: name)
            let trailer = header.dataOffset + consumed
            guard trailer + 8 <= bytes.count else {
                throw DataError(
                    name,
                    "truncated gzip: the 8-byte CRC-32/ISIZE trailer is missing (file ends at byte \(bytes.count))"
                )
            }
            func le32(_ i: Int) -> UInt32 {
                UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(
                    bytes[i + 3]) << 24
            }
            let crc = crc32Of(output[start...])
            guard le32(trailer) == crc else {
                throw DataError(
                    name,
                    String(
                        format: "corrupt gzip: CRC-32 of the data is %08x, trailer says %08x", crc,
                        le32(trailer)))
            }
            let length = UInt32(truncatingIfNeeded: output.count - start)
            guard le32(trailer + 4) == length else {
                throw DataError(
                    name,
                    "corrupt gzip: \(output.count - start) bytes inflated, trailer ISIZE says \(le32(trailer + 4))"
                )
            }
            offset = trailer + 8
            member += 1
        }
        return output
    }

    /// CRC-32 (ISO 3309, the gzip one) through zlib.
    public static func crc32Of<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        func crc(_ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 {
            UInt32(crc32_z(0, buffer.baseAddress, buffer.count))
        }
        if let value = bytes.withContiguousStorageIfAvailable(crc) { return value }
        return Array(bytes).withUnsafeBufferPointer(crc)
    }

    /// Inflates raw DEFLATE data starting at `from`, appending to `output`; returns the number
    /// of compressed bytes consumed.
    private static func inflateRaw(
        _ bytes: [UInt8], from: Int, appendingTo output: inout [UInt8], name: String
    ) throws -> Int {
        var stream = z_stream()
        // windowBits -15: a raw DEFLATE stream, no zlib or gzip wrapper (we parsed that ourselves).
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(name, "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        return try bytes.withUnsafeBufferPointer { input -> Int in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + from)
            stream.avail_in = UInt32(min(input.count - from, Int(UInt32.max)))
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    return Int(stream.total_in)
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw DataError(
                        name,
                        "truncated gzip: compressed data ends after \(stream.total_in) bytes, before the end of the DEFLATE stream (\(output.count) bytes inflated so far)"
                    )
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DataError(
                        name, "corrupt gzip: \(message) (after \(stream.total_in) compressed bytes)")
                }
            }
        }
    }

    /// Compresses `bytes` into one gzip member, optionally with the FEXTRA, FNAME, FCOMMENT and
    /// FHCRC header fields (used by tests to build files with every header variant).
    public static func compress(
        _ bytes: [UInt8], fileName: String? = nil, comment: String? = nil,
        extra: [UInt8]? = nil, headerCRC: Bool = false, level: Int32 = 6
    ) -> [UInt8] {
        var flags: UInt8 = 0
        if extra != nil { flags |= fextra }
        if fileName != nil { flags |= fname }
        if comment != nil { flags |= fcomment }
        if headerCRC { flags |= fhcrc }
        var out: [UInt8] = [0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 0, 255]  // MTIME 0, XFL 0, OS unknown
        if let extra {
            out += [UInt8(extra.count & 0xFF), UInt8(extra.count >> 8)] + extra
        }
        func latin1(_ s: String) -> [UInt8] {
            s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } + [0]
        }
        if let fileName { out += latin1(fileName) }
        if let comment { out += latin1(comment) }
        if headerCRC {
            let crc = crc32Of(out)
            out += [UInt8(crc & 0xFF), UInt8((crc >> 8) & 0xFF)]
        }
        var stream = z_stream()
        deflateInit2_(
            &stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
            Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var compressed = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 16)
        var input = bytes
        input.withUnsafeMutableBufferPointer { inp in
            compressed.withUnsafeMutableBufferPointer { outp in
                stream.next_in = inp.baseAddress
                stream.avail_in = UInt32(inp.count)
                stream.next_out = outp.baseAddress
                stream.avail_out = UInt32(outp.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate did not finish (status \(status))")
            }
        }
        out += compressed[0..<Int(stream.total_out)]
        let crc = crc32Of(bytes)
        let size = UInt32(truncatingIfNeeded: bytes.count)
        for v in [crc, size] { out += [0, 8, 16, 24].map { UInt8((v >> UInt32($0)) & 0xFF) } }
        return out
    }
}

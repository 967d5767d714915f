import CZlib
import Foundation

/// gzip (RFC 1952) through zlib's own gzip mode (`inflateInit2` with 16 + MAX_WBITS): zlib parses
/// every member header (FEXTRA, FNAME, FCOMMENT, FHCRC), inflates the DEFLATE data and checks the
/// trailer's CRC-32 and length. This file adds what zlib leaves to its caller: concatenated
/// members, trailing bytes that are not a member, and messages that name the file and say what
/// is wrong in words rather than zlib's status codes.
public enum Gzip {
    /// Header flags (RFC 1952 §2.3.1).
    static let ftext: UInt8 = 1, fhcrc: UInt8 = 2, fextra: UInt8 = 4, fname: UInt8 = 8, fcomment: UInt8 = 16

    /// What a member header said (zlib's `gz_header`, as Swift values).
    public struct Header: Sendable, Equatable {
        public var modificationTime: UInt32 = 0
        public var extra: [UInt8]?
        public var fileName: String?
        public var comment: String?
        /// True when the header carried a CRC16 (FHCRC); zlib checks it and fails on a mismatch.
        public var headerCRCChecked = false
    }

    /// True when `bytes` start with the gzip magic number 1f 8b.
    public static func isGzip<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        bytes.count >= 2 && bytes[bytes.startIndex] == 0x1F
            && bytes[bytes.index(after: bytes.startIndex)] == 0x8B
    }

    /// The header of the first member.
    /// - Throws: ``DataError`` for anything ``decompress(_:name:)`` would reject in that member.
    public static func header(of bytes: [UInt8], name: String) throws -> Header {
        guard !bytes.isEmpty else { throw DataError(name, "not gzip: the file is empty") }
        var output: [UInt8] = []
        return try inflateMember(bytes, at: 0, appendingTo: &output, name: name).header
    }

    /// Decompresses every member of a gzip file (concatenated members are concatenated).
    /// - Throws: ``DataError`` naming `name` for any header problem, corrupt or truncated
    ///   DEFLATE data, a CRC-32 or length mismatch, or trailing bytes that are not a member.
    public static func decompress(_ bytes: [UInt8], name: String) throws -> [UInt8] {
        guard !bytes.isEmpty else { throw DataError(name, "not gzip: the file is empty") }
        var output: [UInt8] = []
        // ISIZE of a single member gives the output size (mod 2³²): a good first capacity. A
        // corrupt file can claim anything, so trust it only up to DEFLATE's best ratio (1032:1).
        if bytes.count >= 18 {
            let n = bytes.count
            let isize =
                Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
            output.reserveCapacity(min(isize, 1032 * n))
        }
        var offset = 0
        while offset < bytes.count {
            if offset > 0 && !isGzip(bytes[offset...]) {
                throw DataError(
                    name,
                    "corrupt gzip: \(bytes.count - offset) bytes after the last member at byte \(offset) are not a gzip member"
                )
            }
            offset += try inflateMember(bytes, at: offset, appendingTo: &output, name: name).consumed
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

    /// Inflates the member starting at `offset` with zlib's gzip wrapper, appending to `output`;
    /// returns its header and the number of bytes the member took (header, data and trailer).
    private static func inflateMember(
        _ bytes: [UInt8], at offset: Int, appendingTo output: inout [UInt8], name: String
    ) throws -> (header: Header, consumed: Int) {
        guard bytes.count - offset >= 2, bytes[offset] == 0x1F, bytes[offset + 1] == 0x8B else {
            let shown = bytes[offset...].prefix(2).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw DataError(name, "not gzip: magic number \(shown) at byte \(offset), expected 1f 8b")
        }
        var stream = z_stream()
        // windowBits 16 + 15: a gzip wrapper around DEFLATE with the largest window.
        guard
            inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else {
            throw DataError(name, "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        // Buffers zlib fills with the optional header fields (longer ones are cut, not overrun).
        var extra = [UInt8](repeating: 0, count: 65_535), fileName = [UInt8](repeating: 0, count: 4096)
        var comment = [UInt8](repeating: 0, count: 4096)
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        let start = output.count
        return try bytes.withUnsafeBufferPointer { input in
            try extra.withUnsafeMutableBufferPointer { extraBuffer in
                try fileName.withUnsafeMutableBufferPointer { nameBuffer in
                    try comment.withUnsafeMutableBufferPointer { commentBuffer in
                        var head = gz_header()
                        head.extra = extraBuffer.baseAddress
                        head.extra_max = UInt32(extraBuffer.count)
                        head.name = nameBuffer.baseAddress
                        head.name_max = UInt32(nameBuffer.count)
                        head.comment = commentBuffer.baseAddress
                        head.comm_max = UInt32(commentBuffer.count)
                        inflateGetHeader(&stream, &head)
                        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + offset)
                        stream.avail_in = UInt32(min(input.count - offset, Int(UInt32.max)))
                        while true {
                            let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                                stream.next_out = out.baseAddress
                                stream.avail_out = UInt32(out.count)
                                return inflate(&stream, Z_NO_FLUSH)
                            }
                            output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                            switch status {
                            case Z_STREAM_END:
                                var header = Header(modificationTime: UInt32(head.time))
                                func text(_ b: UnsafeMutableBufferPointer<UInt8>) -> String {
                                    let end = b.firstIndex(of: 0) ?? b.count
                                    return String(b[0..<end].map { Character(Unicode.Scalar($0)) })  // Latin-1
                                }
                                if bytes[offset + 3] & fextra != 0 {
                                    header.extra = Array(
                                        extraBuffer[0..<min(Int(head.extra_len), extraBuffer.count)])
                                }
                                if bytes[offset + 3] & fname != 0 { header.fileName = text(nameBuffer) }
                                if bytes[offset + 3] & fcomment != 0 { header.comment = text(commentBuffer) }
                                header.headerCRCChecked = head.hcrc != 0
                                return (header, Int(stream.total_in))
                            case Z_OK:
                                continue
                            case Z_BUF_ERROR where stream.avail_in == 0:
                                let place =
                                    head.done == 0
                                    ? "inside the member header" : "before the end of the member"
                                throw DataError(
                                    name,
                                    "truncated gzip: the file ends \(place), after \(stream.total_in) bytes of it "
                                        + "(\(output.count - start) bytes inflated so far)")
                            default:
                                throw DataError(
                                    name, describe(stream.msg, status: status, member: bytes[offset...]))
                            }
                        }
                    }
                }
            }
        }
    }

    /// zlib's message for a failed inflate, in the words of RFC 1952.
    private static func describe(
        _ message: UnsafePointer<CChar>?, status: Int32, member: ArraySlice<UInt8>
    ) -> String {
        let zlib = message.map { String(cString: $0) } ?? "zlib error \(status)"
        let m = member.startIndex
        switch zlib {
        case "unknown compression method" where member.count > 2:
            return "corrupt gzip: compression method \(member[m + 2]), only 8 (deflate) exists"
        case "unknown header flags set" where member.count > 3:
            return String(format: "corrupt gzip: reserved header flag bits set (flags %02x)", member[m + 3])
        case "header crc mismatch":
            return "corrupt gzip: the header CRC16 does not match the header"
        case "incorrect data check":
            return "corrupt gzip: the CRC-32 of the data does not match the trailer's"
        case "incorrect length check":
            return "corrupt gzip: the inflated length does not match the trailer's ISIZE"
        default:
            return "corrupt gzip: \(zlib)"
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

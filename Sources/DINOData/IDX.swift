import Foundation

/// The IDX format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a 4-byte magic number
/// `00 00 TYPE NDIM`, NDIM big-endian UInt32 dimensions, then the values row-major. Only TYPE
/// 0x08 (unsigned byte) is used by these datasets and supported here.
public struct IDXArray: Sendable, Equatable {
    public var dimensions: [Int]
    public var values: [UInt8]

    public init(dimensions: [Int], values: [UInt8]) {
        precondition(
            dimensions.reduce(1, *) == values.count,
            "IDXArray: \(dimensions) needs \(dimensions.reduce(1, *)) values, got \(values.count)")
        self.dimensions = dimensions
        self.values = values
    }

    static let typeNames: [UInt8: String] = [
        0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32",
        0x0E: "float64",
    ]

    /// Reads an IDX file, raw or gzip-compressed (recognised by its 1f 8b magic number).
    /// - Throws: ``DataError`` naming the file: missing, corrupt gzip, wrong magic number,
    ///   unsupported type, truncated, or followed by extra bytes.
    public static func read(_ path: String) throws -> IDXArray {
        var bytes = try readBytes(path)
        if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes, name: path) }
        return try parse(bytes, name: path)
    }

    /// Parses IDX bytes; `name` is used in error messages.
    public static func parse(_ bytes: [UInt8], name: String) throws -> IDXArray {
        guard bytes.count >= 4 else {
            throw DataError(name, "truncated IDX: \(bytes.count) bytes, the magic number alone needs 4")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DataError(
                name,
                String(
                    format:
                        "wrong magic number %02x %02x %02x %02x: an IDX file starts with 00 00 <type> <dims>",
                    bytes[0], bytes[1], bytes[2], bytes[3]))
        }
        let type = bytes[2]
        let rank = Int(bytes[3])
        guard let typeName = typeNames[type] else {
            throw DataError(name, String(format: "wrong magic number: unknown IDX data type 0x%02x", type))
        }
        guard type == 0x08 else {
            throw DataError(
                name,
                String(format: "IDX data type 0x%02x", type)
                    + " (\(typeName)) is not supported, only 0x08 (unsigned byte)")
        }
        guard rank >= 1 else { throw DataError(name, "wrong magic number: IDX with 0 dimensions") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DataError(
                name,
                "truncated IDX: \(bytes.count) bytes, the header of a \(rank)-D array needs \(headerSize)")
        }
        var dimensions: [Int] = []
        for d in 0..<rank {
            let i = 4 + 4 * d
            dimensions.append(
                Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]))
        }
        let actual = bytes.count - headerSize
        let shape = dimensions.map(String.init).joined(separator: "x")
        // Four 32-bit dimensions can overflow Int: a product beyond the file is truncation anyway.
        var expected = 1
        for d in dimensions {
            let (product, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw DataError(
                    name,
                    "truncated IDX: header says \(shape), more bytes than any file holds; file holds \(actual)"
                )
            }
            expected = product
        }
        guard actual >= expected else {
            throw DataError(
                name, "truncated IDX: header says \(shape) (\(expected) bytes of data), file holds \(actual)")
        }
        guard actual == expected else {
            throw DataError(
                name, "IDX has \(actual - expected) bytes after the \(shape) array the header describes")
        }
        return IDXArray(dimensions: dimensions, values: Array(bytes[headerSize...]))
    }

    /// The IDX bytes of this array (type 0x08).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions {
            out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]
        }
        return out + values
    }
}

/// The bytes of a file, or a ``DataError`` saying why not.
func readBytes(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DataError(path, "no such file")
    }
    guard !isDirectory.boolValue else { throw DataError(path, "is a folder, expected a file") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DataError(path, "cannot read the file (permissions?)")
    }
    return [UInt8](data)
}

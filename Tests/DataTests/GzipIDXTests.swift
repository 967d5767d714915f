import DINOData
import Foundation
import Testing

@Suite("gzip (RFC 1952) and IDX") struct GzipIDXTests {
    let images = IDXArray(dimensions: [3, 4, 5], values: levels(60, seed: 7))
    let labels = IDXArray(dimensions: [3], values: [2, 0, 9])

    @Test func everyOptionalHeaderFieldIsParsed() throws {
        let payload = levels(5000, seed: 8)
        let plain = Gzip.compress(payload)
        #expect(try Gzip.decompress(plain, name: "plain") == payload)
        let full = Gzip.compress(
            payload, fileName: "train-images-idx3-ubyte", comment: "a comment",
            extra: [1, 2, 3, 4, 5], headerCRC: true)
        let header = try Gzip.header(of: full, name: "full")
        #expect(header.fileName == "train-images-idx3-ubyte")
        #expect(header.comment == "a comment")
        #expect(header.extra == [1, 2, 3, 4, 5])
        #expect(header.headerCRCChecked)
        #expect(try Gzip.decompress(full, name: "full") == payload)
        // Concatenated members decompress to the concatenation (RFC 1952 §2.2).
        #expect(try Gzip.decompress(plain + full, name: "two") == payload + payload)
    }

    @Test func idxRawAndGzippedWithAndWithoutFileName() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        write(images.encoded(), to: dir + "/raw-idx3")
        write(Gzip.compress(images.encoded()), to: dir + "/noname-idx3.gz")
        write(Gzip.compress(images.encoded(), fileName: "images-idx3-ubyte"), to: dir + "/named-idx3.gz")
        for file in ["raw-idx3", "noname-idx3.gz", "named-idx3.gz"] {
            #expect(try IDXArray.read(dir + "/" + file) == images, "\(file)")
        }
    }

    @Test func filesMadeByTheGzipToolAreRead() throws {
        // /usr/bin/gzip writes FNAME by default and omits it with -n.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else { return }
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, flags) in [("a-idx3", ["-k"]), ("b-idx3", ["-k", "-n"])] {
            write(images.encoded(), to: dir + "/" + name)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
            p.arguments = flags + [dir + "/" + name]
            try p.run()
            p.waitUntilExit()
            let gz = [UInt8](FileManager.default.contents(atPath: dir + "/" + name + ".gz")!)
            let header = try Gzip.header(of: gz, name: name)
            #expect(header.fileName == (flags.contains("-n") ? nil : name))
            #expect(try IDXArray.read(dir + "/" + name + ".gz") == images)
        }
    }

    @Test func corruptGzipIsReported() {
        let good = Gzip.compress(images.encoded(), fileName: "x")
        var badCRC = good
        badCRC[badCRC.count - 6] ^= 0xFF
        #expect(
            dataError { _ = try Gzip.decompress(badCRC, name: "f.gz") }?.problem.hasPrefix(
                "corrupt gzip: the CRC-32") == true)
        var badSize = good
        badSize[badSize.count - 1] ^= 0x01
        #expect(
            dataError { _ = try Gzip.decompress(badSize, name: "f.gz") }?.problem.contains("ISIZE") == true)
        let truncated = Array(good.prefix(good.count - 20))
        let t = dataError { _ = try Gzip.decompress(truncated, name: "f.gz") }
        #expect(t?.problem.hasPrefix("truncated gzip") == true, "\(String(describing: t))")
        let noTrailer = Array(good.prefix(good.count - 4))
        #expect(
            dataError { _ = try Gzip.decompress(noTrailer, name: "f.gz") }?.problem.hasPrefix(
                "truncated gzip: the file ends before the end of the member") == true)
        var badMethod = good
        badMethod[2] = 7
        #expect(
            dataError { _ = try Gzip.decompress(badMethod, name: "f.gz") }?.problem.contains(
                "compression method 7") == true)
        var reserved = good
        reserved[3] |= 0x80
        #expect(
            dataError { _ = try Gzip.decompress(reserved, name: "f.gz") }?.problem.contains("reserved")
                == true)
        var badHeaderCRC = Gzip.compress([1, 2, 3], comment: "c", headerCRC: true)
        badHeaderCRC[10] ^= 0x01  // first byte of the comment
        #expect(
            dataError { _ = try Gzip.decompress(badHeaderCRC, name: "f.gz") }?.problem.contains(
                "header CRC16") == true)
        #expect(
            dataError { _ = try Gzip.decompress(good + [1, 2, 3], name: "f.gz") }?.problem.contains(
                "not a gzip member") == true)
        let unterminated = Array(Gzip.compress([1], fileName: "name").prefix(13))
        #expect(
            dataError { _ = try Gzip.decompress(unterminated, name: "f.gz") }?.problem.contains(
                "ends inside the member header") == true)
    }

    @Test func corruptDeflateDataIsReported() {
        // A stored block whose LEN and NLEN disagree: invalid DEFLATE, caught by zlib.
        var bad = Gzip.compress([1, 2, 3, 4], level: 0)
        bad[11] ^= 0xFF  // LEN low byte of the first stored block (header is 10 bytes, then BFINAL/BTYPE)
        let e = dataError { _ = try Gzip.decompress(bad, name: "f.gz") }
        #expect(e?.path == "f.gz")
        #expect(e?.problem.hasPrefix("corrupt gzip") == true, "\(String(describing: e))")
    }

    @Test func idxErrors() {
        var wrongMagic = images.encoded()
        wrongMagic[0] = 0x1F
        wrongMagic[1] = 0x00
        #expect(
            dataError { _ = try IDXArray.parse(wrongMagic, name: "i") }?.problem.hasPrefix(
                "wrong magic number") == true)
        var wrongType = images.encoded()
        wrongType[2] = 0x0D
        #expect(
            dataError { _ = try IDXArray.parse(wrongType, name: "i") }?.problem.contains("float32") == true)
        var unknownType = images.encoded()
        unknownType[2] = 0x42
        #expect(
            dataError { _ = try IDXArray.parse(unknownType, name: "i") }?.problem.contains(
                "unknown IDX data type 0x42") == true)
        let truncated = Array(images.encoded().dropLast(7))
        let t = dataError { _ = try IDXArray.parse(truncated, name: "i") }
        #expect(t?.problem == "truncated IDX: header says 3x4x5 (60 bytes of data), file holds 53")
        let header = Array(images.encoded().prefix(9))
        #expect(
            dataError { _ = try IDXArray.parse(header, name: "i") }?.problem.hasPrefix("truncated IDX")
                == true)
        #expect(
            dataError { _ = try IDXArray.parse(images.encoded() + [0], name: "i") }?.problem.contains(
                "1 bytes after") == true)
        #expect(dataError { _ = try IDXArray.read("/nonexistent/x-idx3") }?.problem == "no such file")
    }

    /// Found by the fuzzer (scripts/fuzz.sh idx): four dimensions of 0xffffffff-ish values made the
    /// element count overflow Int and trap; it is a truncated file, said so.
    @Test func fuzzerFoundDimensionOverflowIsAnError() throws {
        let bytes = [UInt8](Data(base64Encoded: "AAAIBP////////8AAAAAAAAAAAAAAAAAAAAAAAAAkQ==")!)
        do {
            _ = try IDXArray.parse(bytes, name: "crash-4a7f1e00")
            Issue.record("accepted")
        } catch let error as DataError {
            #expect(error.path == "crash-4a7f1e00" && error.problem.contains("truncated IDX"), "\(error)")
        }
    }
}

// libFuzzer target: the IDX reader behind gzip (what `idx:DIR` and Fashion-MNIST go through).
import DINOData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if Gzip.isGzip(bytes) {
        guard let inflated = try? Gzip.decompress(bytes, name: "fuzz") else { return 0 }
        bytes = inflated
    }
    _ = try? IDXArray.parse(bytes, name: "fuzz")
    return 0
}

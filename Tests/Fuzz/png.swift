// libFuzzer target: the PNG reader (libpng through Image.decodePNG).
import DINOData
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? Image.decodePNG(Data(bytes: data, count: size), name: "fuzz")
    return 0
}

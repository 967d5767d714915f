// libFuzzer target: the safetensors reader of checkpoints and golden vectors.
import DINOModel
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? Safetensors.decode(Data(bytes: data, count: size))
    return 0
}

// libFuzzer target: a golden-vector case file (dino verify), read from a scratch file as the
// runner reads it.
import DINOModel
import KernelCheck
import Foundation

let scratch = NSTemporaryDirectory() + "dino-fuzz-golden-\(getpid())"
let created: Void = {
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGolden(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = created
    _ = FileManager.default.createFile(
        atPath: scratch + "/case.json", contents: Data(bytes: data, count: size))
    _ = try? GoldenCase(directory: scratch, path: "case")
    return 0
}

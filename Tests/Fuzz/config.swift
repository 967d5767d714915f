// libFuzzer target: a training config JSON (dino train --config FILE.json, config.json of a run),
// decoded and then validated, as dino train does before anything runs.
import DINOModel
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let config = try? TrainingConfig.decoded(text, source: "fuzz") { try? config.validate() }
    return 0
}

import DINOCore
import Foundation

// The arithmetic ceiling of this build: how many FMAs per second one core retires on vectors
// of this build's width (8 floats in ymm, or 16 in zmm), with 12 independent chains so neither
// FMA latency nor loads limit it. `dino bench peak` reports it, and `dino bench kernels` and
// `dino bench blas` print their GFLOP/s as a fraction of it.

extension SIMDKernels {
    /// GFLOP/s (2 per multiply-add per lane) of `threads` threads, each running `iterations`
    /// steps of 12 independent vector FMAs; the median of `runs` timings.
    public static func fmaPeak(threads: Int, iterations: Int = 20_000_000, runs: Int = 5) -> Double {
        var rates: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let sink = SinkBox()
            Threads.with(threads) {
                Threads.parallelFor(threads) { _ in sink.add(fmaChains(iterations)) }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            precondition(sink.total.isFinite)
            rates.append(Double(threads * iterations * 12 * lanes * 2) / seconds / 1e9)
        }
        return rates.sorted()[rates.count / 2]
    }
}

/// Keeps the chains' results alive so the optimiser cannot drop the loop.
private final class SinkBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var total: Float = 0
    func add(_ x: Float) { lock.lock(); total += x; lock.unlock() }
}

@inline(never)
private func fmaChains(_ n: Int) -> Float {
    var a0 = FV(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
    var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
    let x = FV(repeating: 0.999_999), y = FV(repeating: 1e-7)
    for _ in 0..<n {
        a0 = a0.addingProduct(x, y); a1 = a1.addingProduct(x, y); a2 = a2.addingProduct(x, y)
        a3 = a3.addingProduct(x, y); a4 = a4.addingProduct(x, y); a5 = a5.addingProduct(x, y)
        a6 = a6.addingProduct(x, y); a7 = a7.addingProduct(x, y); a8 = a8.addingProduct(x, y)
        a9 = a9.addingProduct(x, y); a10 = a10.addingProduct(x, y); a11 = a11.addingProduct(x, y)
    }
    return (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))).sum()
}

import Dispatch

/// How many threads the SIMD core may use (1 or 2 on this machine). The reference core ignores
/// it. Set once at start-up (`--threads`); kernels read it on every call.
public enum Threads {
    nonisolated(unsafe) public static var count: Int = 2

    /// Runs `body(chunk)` for `chunks` chunks over up to `count` threads; returns when all are
    /// done. With one thread or one chunk it runs inline (no Dispatch overhead).
    @inline(__always)
    public static func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || count <= 1 {
            for c in 0..<chunks { body(c) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }
}

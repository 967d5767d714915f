import DINOCore

// The innermost piece of the SIMD matmul: a 6×16 tile of C held in twelve SIMD8<Float>
// registers while K streams past. Everything else in Gemm*.swift exists to feed this loop
// with contiguous operands (see GemmPacking.swift) and to keep them in cache (GemmDriver.swift).

/// Rows of C per micro-tile (broadcast from packed A).
let gemmMR = 6
/// Floats per depth in a packed A panel: the 6 values of op(A) plus 2 unused lanes, so the
/// pack routines write one aligned 8-lane vector per depth.
let gemmAStride = 8
/// Columns of C per micro-tile (two SIMD8 loads from packed B).
let gemmNR = 16

/// What the micro-kernel does with the C tile when it writes back (the epilogue).
struct GemmEpilogue {
    /// `C = acc (+ …)` when false, `C += acc (+ …)` when true.
    var addC: Bool
    /// The bias values for this tile's 16 columns, added once (first K block only), or nil.
    var bias: UnsafePointer<Float>?
    /// How many of the 6 rows exist in C (fewer on the last row panel when M % 6 ≠ 0).
    var rows: Int = gemmMR
}

/// `C[0..<6, 0..<16] (+)= Σ_p A(p, 0..<6)ᵀ·B(p, 0..<16)` for one full tile.
///
/// - `a`: a packed A panel, depth-major: the 6 values of depth `p` are `a[8p ..< 8p + 6]`.
/// - `b`: a packed B panel, depth-major: the 16 values of depth `p` are `b[16p ..< 16p + 16]`.
/// - `c`: the top-left corner of the tile inside C, row stride `ldc`.
///
/// Twelve accumulators + two B vectors + one broadcast = 15 of the 16 ymm registers. Each step
/// issues 12 independent FMAs against 2 loads and 6 broadcasts, enough independent work to
/// cover the FMA latency (4 cycles × 2 pipes = 8 in flight). Both panels are read as single
/// contiguous streams. Not inlined, so the register allocation of the loop is decided once.
@inline(never)
func gemmMicroKernel(
    _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, ldc: Int, _ epilogue: GemmEpilogue
) {
    var c00 = F8(), c01 = F8(), c10 = F8(), c11 = F8(), c20 = F8(), c21 = F8()
    var c30 = F8(), c31 = F8(), c40 = F8(), c41 = F8(), c50 = F8(), c51 = F8()
    var ap = a, bp = b
    // Written with one pointer per operand advanced by a constant: a generic `a[p·cs + r·rs]`
    // form made LLVM hoist all six broadcasts ahead of the FMAs and spill accumulators.
    for _ in 0..<kc {
        let b0 = load8(bp), b1 = load8(bp + 8)
        var x = F8(repeating: ap[0])
        c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = F8(repeating: ap[1])
        c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = F8(repeating: ap[2])
        c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = F8(repeating: ap[3])
        c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = F8(repeating: ap[4])
        c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        x = F8(repeating: ap[5])
        c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        ap += gemmAStride
        bp += 16
    }
    // Epilogue: bias (first K block) and accumulation fused into the single write-back.
    if let bias = epilogue.bias {
        let v0 = load8(bias), v1 = load8(bias + 8)
        c00 += v0; c01 += v1; c10 += v0; c11 += v1; c20 += v0; c21 += v1
        c30 += v0; c31 += v1; c40 += v0; c41 += v1; c50 += v0; c51 += v1
    }
    @inline(__always) func put(_ row: Int, _ lo: F8, _ hi: F8) {
        let p = c + row * ldc
        if epilogue.addC {
            store8(load8(p) + lo, p)
            store8(load8(p + 8) + hi, p + 8)
        } else {
            store8(lo, p)
            store8(hi, p + 8)
        }
    }
    let rows = epilogue.rows
    put(0, c00, c01)
    if rows > 1 { put(1, c10, c11) }
    if rows > 2 { put(2, c20, c21) }
    if rows > 3 { put(3, c30, c31) }
    if rows > 4 { put(4, c40, c41) }
    if rows > 5 { put(5, c50, c51) }
}

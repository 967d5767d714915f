import DINOCore

// The innermost piece of the SIMD matmul: a tile of C held in registers while K streams past:
// 6×16 in twelve SIMD8<Float> (ymm) registers in the 256-bit build, 8×32 in sixteen
// SIMD16<Float> (zmm) registers in the 512-bit build. Everything else in Gemm*.swift exists to feed this loop
// with contiguous operands (see GemmPacking.swift) and to keep them in cache (GemmDriver.swift).

#if DINO_AVX512
    /// Rows of C per micro-tile (broadcast from packed A): 8 in the 512-bit build.
    let gemmMR = 8
    /// Floats per depth in a packed A panel: exactly the 8 values of op(A).
    let gemmAStride = 8
    /// Columns of C per micro-tile (two SIMD16 loads from packed B).
    let gemmNR = 32
#else
    /// Rows of C per micro-tile (broadcast from packed A).
    let gemmMR = 6
    /// Floats per depth in a packed A panel: the 6 values of op(A) plus 2 unused lanes, so the
    /// pack routines write one aligned 8-lane vector per depth.
    let gemmAStride = 8
    /// Columns of C per micro-tile (two SIMD8 loads from packed B).
    let gemmNR = 16
#endif

/// What the micro-kernel does with the C tile when it writes back (the epilogue).
struct GemmEpilogue {
    /// `C = acc (+ …)` when false, `C += acc (+ …)` when true.
    var addC: Bool
    /// The bias values for this tile's 16 columns, added once (first K block only), or nil.
    var bias: UnsafePointer<Float>?
    /// How many of the 6 rows exist in C (fewer on the last row panel when M % 6 ≠ 0).
    var rows: Int = gemmMR
}

#if !DINO_AVX512
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
#endif

#if DINO_AVX512
    /// `C[0..<8, 0..<32] (+)= Σ_p A(p, 0..<8)ᵀ·B(p, 0..<32)` for one full tile, the 512-bit form of
    /// the kernel above: `a[8p ..< 8p + 8]` are the 8 values of depth `p`, `b[32p ..< 32p + 32]`
    /// the 32 of B.
    ///
    /// Sixteen zmm accumulators + two B vectors + one broadcast = 19 of the 32 zmm registers. Each
    /// step issues 16 independent FMAs of 16 lanes against 2 loads and 8 broadcasts: twice the
    /// multiply-adds per instruction of the ymm kernel and more chains than the 2 pipes × 4 cycles
    /// of FMA latency need.
    @inline(never)
    func gemmMicroKernel(
        _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, _ epilogue: GemmEpilogue
    ) {
        var c00 = FV(), c01 = FV(), c10 = FV(), c11 = FV(), c20 = FV(), c21 = FV(), c30 = FV(), c31 = FV()
        var c40 = FV(), c41 = FV(), c50 = FV(), c51 = FV(), c60 = FV(), c61 = FV(), c70 = FV(), c71 = FV()
        var ap = a, bp = b
        for _ in 0..<kc {
            let b0 = loadV(bp), b1 = loadV(bp + 16)
            var x = FV(repeating: ap[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = FV(repeating: ap[1])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = FV(repeating: ap[2])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = FV(repeating: ap[3])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = FV(repeating: ap[4])
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = FV(repeating: ap[5])
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            x = FV(repeating: ap[6])
            c60 = c60.addingProduct(x, b0); c61 = c61.addingProduct(x, b1)
            x = FV(repeating: ap[7])
            c70 = c70.addingProduct(x, b0); c71 = c71.addingProduct(x, b1)
            ap += gemmAStride
            bp += 32
        }
        if let bias = epilogue.bias {
            let v0 = loadV(bias), v1 = loadV(bias + 16)
            c00 += v0; c01 += v1; c10 += v0; c11 += v1; c20 += v0; c21 += v1; c30 += v0; c31 += v1
            c40 += v0; c41 += v1; c50 += v0; c51 += v1; c60 += v0; c61 += v1; c70 += v0; c71 += v1
        }
        @inline(__always) func put(_ row: Int, _ lo: FV, _ hi: FV) {
            let p = c + row * ldc
            if epilogue.addC {
                storeV(loadV(p) + lo, p)
                storeV(loadV(p + 16) + hi, p + 16)
            } else {
                storeV(lo, p)
                storeV(hi, p + 16)
            }
        }
        let rows = epilogue.rows
        put(0, c00, c01)
        if rows > 1 { put(1, c10, c11) }
        if rows > 2 { put(2, c20, c21) }
        if rows > 3 { put(3, c30, c31) }
        if rows > 4 { put(4, c40, c41) }
        if rows > 5 { put(5, c50, c51) }
        if rows > 6 { put(6, c60, c61) }
        if rows > 7 { put(7, c70, c71) }
    }
#endif

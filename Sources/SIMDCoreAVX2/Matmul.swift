import DINOCore

extension SIMDKernels {
    /// `C = op(A)·op(B) (+ bias)`, or `C += …`: a packed, cache-blocked GEMM around one 6×16
    /// register-tile micro-kernel (GemmMicroKernel.swift, GemmPacking.swift, GemmDriver.swift).
    /// - Faster: the pack routines absorb the layout, so one micro-kernel serves A·B, A·Bᵀ and
    ///   Aᵀ·B, and make both operands contiguous; the micro-kernel keeps a 6×16 tile of C in
    ///   twelve SIMD8 registers and issues 12 FMAs per 2 loads + 6 broadcasts; blocking keeps the
    ///   A panel in L1 and walks C along its rows; bias and accumulation are fused into the
    ///   write-back; above 4M multiply-adds the work is split across threads (by rows, columns,
    ///   or K for deep weight gradients). Packing buffers are pooled: no allocation per call.
    /// - Costs: Float32 sums in a different order than the reference (a running FMA chain per
    ///   K block, blocks added in C, K-split partials added last): error ≈ √K·u relative to
    ///   Σ|a·b|, inside `Tolerance.reduction`.
    /// - Measured with `dino bench blas` (Walkthroughs/00-kernels.md): at the ViT-step shapes,
    ///   0.95-1.18× OpenBLAS 0.3.31 on one thread and 0.88-1.06× on two (medians of 3 interleaved
    ///   rounds on a 2-vCPU Zen 3); small squares on two threads 0.74-0.82×.
    /// - Twin: ``ReferenceKernels/matmul(_:_:layout:bias:accumulate:into:)``
    public static func matmul(
        _ a: Tensor, _ b: Tensor, layout: MatmulLayout, bias: Tensor?, accumulate: Bool,
        into c: inout Tensor
    ) {
        let (m, k, n) = KernelContract.matmul(a, b, layout: layout, bias: bias, into: c)
        if m == 0 || n == 0 { return }
        if k == 0 {
            // An empty sum: only the bias and the accumulation remain.
            for i in 0..<m {
                for j in 0..<n {
                    c.storage[i * n + j] = (accumulate ? c.storage[i * n + j] : 0) + (bias?.storage[j] ?? 0)
                }
            }
            return
        }
        // From here every operand has at least one element, so every base address exists.
        a.storage.withUnsafeBufferPointer { ap in
            b.storage.withUnsafeBufferPointer { bp in
                c.storage.withUnsafeMutableBufferPointer { cp in
                    func run(_ biasPointer: UnsafePointer<Float>?) {
                        GemmOperands(
                            layout: layout, a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!,
                            bias: biasPointer, m: m, k: k, n: n, accumulate: accumulate
                        ).run()
                    }
                    if let bias {
                        bias.storage.withUnsafeBufferPointer { run($0.baseAddress!) }
                    } else {
                        run(nil)
                    }
                }
            }
        }
    }
}

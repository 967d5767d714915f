import DINOCore

// Packing: copying a block of op(A) or op(B) into the order the micro-kernel reads it.
// This is where the three layouts differ, and the only place: once packed, A·B, A·Bᵀ and Aᵀ·B
// all run through the same 6×16 micro-kernel. Each layout has one plain copy and one
// transposition (done with 8×8 SIMD shuffles), and packing pads ragged edges with zeros so the
// micro-kernel never needs a tail over M or N.
//
//            op(A) panels (6 rows)          op(B) panels (16 columns)
//   A·B      A [M, K]: transpose 6×8        B [K, N]: copy 16 floats per depth
//   A·Bᵀ     A [M, K]: transpose 6×8        B [N, K]: transpose 8×8
//   Aᵀ·B     A [K, M]: copy 6 floats        B [K, N]: copy 16 floats per depth

extension GemmOperands {
    /// Packs rows `i0 ..< i0 + mc` and depths `p0 ..< p0 + kc` of op(A) into `⌈mc/6⌉` panels of
    /// `8·kc` floats, depth-major: panel `q` holds op(A)[i0 + 6q ..< i0 + 6q + 6, p] at
    /// `dst[8q·kc + 8p ..< 8q·kc + 8p + 6]` (lanes 6 and 7 are never read). Rows past `mc` are 0.
    ///
    /// - Aᵀ·B (A stored `[K, M]`): op(A)'s 6 rows at depth `p` are 6 adjacent floats of A's row
    ///   `p`: a plain copy, one 8-lane load and store per panel and depth (the transposition is
    ///   in the panel order). Row by row, so each source row is read once, front to back.
    /// - A·B, A·Bᵀ (A stored `[M, K]`): the pack transposes 6 rows × 8 depths at a time
    ///   (`transposed8x8` with two zero rows) into 8 aligned vectors.
    func packA(_ dst: UnsafeMutablePointer<Float>, i0: Int, mc: Int, p0: Int, kc: Int) {
        let fullPanels = mc / gemmMR, rest = mc - fullPanels * gemmMR
        let panelStride = gemmAStride * kc
        if layout == .tn {
            // (Walking panel by panel instead read 6 floats from each of kc rows at a time and
            // more than doubled the pack's share of a call.)
            let wide = i0 + fullPanels * gemmMR + (gemmAStride - gemmMR) <= m  // 8-lane loads stay inside A
            for p in 0..<kc {
                let s = a + (p0 + p) * m + i0
                let d = dst + p * gemmAStride
                if wide {
                    for q in 0..<fullPanels { store8(load8(s + q * gemmMR), d + q * panelStride) }
                } else {
                    for q in 0..<fullPanels {
                        for r in 0..<gemmMR { d[q * panelStride + r] = s[q * gemmMR + r] }
                    }
                }
                if rest > 0 {
                    let t = s + fullPanels * gemmMR, e = d + fullPanels * panelStride
                    for r in 0..<gemmMR { e[r] = r < rest ? t[r] : 0 }
                }
            }
        } else {
            for q in 0..<fullPanels {
                let rows = a + (i0 + q * gemmMR) * k + p0
                let d = dst + q * panelStride
                var p = 0
                while p + 8 <= kc {
                    if gemmMR == 8 {
                        transpose8x8(rows + p, ld: k, d + p * gemmAStride, ldd: gemmAStride)
                    } else {
                        transpose6x8(rows + p, ld: k, d + p * gemmAStride)
                    }
                    p += 8
                }
                while p < kc {
                    for r in 0..<gemmMR { d[p * gemmAStride + r] = rows[r * k + p] }
                    p += 1
                }
            }
            if rest > 0 {
                let rows = a + (i0 + fullPanels * gemmMR) * k + p0
                let d = dst + fullPanels * panelStride
                for p in 0..<kc {
                    for r in 0..<gemmMR { d[p * gemmAStride + r] = r < rest ? rows[r * k + p] : 0 }
                }
            }
        }
    }

    /// Packs columns `j0 ..< j0 + nc` and depths `p0 ..< p0 + kc` of op(B) into `⌈nc/16⌉` panels
    /// of `16·kc` floats, depth-major: panel row `p` is the 16 values op(B)[p0 + p, j ..< j + 16].
    /// Columns past `nc` are zero.
    ///
    /// - A·B, Aᵀ·B (B stored `[K, N]`): each panel row is 16 adjacent floats of B's row: two
    ///   vector copies. Row by row, so each source row is one sequential stream and each
    ///   destination row is one whole cache line (walking panel by panel instead sent the stores
    ///   of one depth to the same few L1 sets, the panels being 16·kc floats apart, and evicted
    ///   half-written lines).
    /// - A·Bᵀ (B stored `[N, K]`): op(B)'s columns are B's rows, so the pack transposes, 8×8
    ///   blocks at a time (`transpose8x8`).
    func packB(_ dst: UnsafeMutablePointer<Float>, j0: Int, nc: Int, p0: Int, kc: Int) {
        let panels = (nc + gemmNR - 1) / gemmNR
        if layout != .nt {
            // Each source row is read front to back; each destination row (16 floats) is one
            // whole cache line.
            let fullPanels = nc / gemmNR, rest = nc - fullPanels * gemmNR
            for p in 0..<kc {
                let s = b + (p0 + p) * n + j0
                let d = dst + p * gemmNR
                for q in 0..<fullPanels {
                    for h in stride(from: 0, to: gemmNR, by: 8) {
                        store8(load8(s + q * gemmNR + h), d + q * gemmNR * kc + h)
                    }
                }
                if rest > 0 {
                    let t = s + fullPanels * gemmNR, e = d + fullPanels * gemmNR * kc
                    for j in 0..<gemmNR { e[j] = j < rest ? t[j] : 0 }
                }
            }
        } else {
            for q in 0..<panels {
                let panel = dst + q * gemmNR * kc
                // Groups of 8 columns; each is 8 rows of B transposed into 8 lanes.
                for half in 0..<(gemmNR / 8) {
                    let c0 = q * gemmNR + half * 8
                    let valid = max(0, min(8, nc - c0))
                    let d = panel + half * 8
                    if valid == 8 {
                        let rows = b + (j0 + c0) * k + p0
                        var p = 0
                        while p + 8 <= kc {
                            transpose8x8(rows + p, ld: k, d + p * gemmNR, ldd: gemmNR)
                            p += 8
                        }
                        while p < kc {
                            for l in 0..<8 { d[p * gemmNR + l] = rows[l * k + p] }
                            p += 1
                        }
                    } else {
                        for p in 0..<kc {
                            for l in 0..<8 {
                                d[p * gemmNR + l] = l < valid ? b[(j0 + c0 + l) * k + p0 + p] : 0
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Transposes 6 rows × 8 depths of a row-major matrix into 8 depth-major groups:
/// `dst[8q + r] = src[r·ld + q]` for r < 6; lanes 6 and 7 of each group are zero.
@inline(__always)
func transpose6x8(_ src: UnsafePointer<Float>, ld: Int, _ dst: UnsafeMutablePointer<Float>) {
    let z = F8()
    let t = transposed8x8(
        load8(src), load8(src + ld), load8(src + 2 * ld), load8(src + 3 * ld),
        load8(src + 4 * ld), load8(src + 5 * ld), z, z)
    store8(t.0, dst); store8(t.1, dst + 8); store8(t.2, dst + 16); store8(t.3, dst + 24)
    store8(t.4, dst + 32); store8(t.5, dst + 40); store8(t.6, dst + 48); store8(t.7, dst + 56)
}

/// `dst[q·ldd + l] = src[l·ld + q]` for an 8×8 block: reads 8 rows of 8 floats, writes 8 rows
/// of 8 floats. Built from lane selections that LLVM turns into unpck/shuf/perm2f128 shuffles
/// (the classic 24-shuffle AVX transpose) instead of 64 scalar moves.
@inline(__always)
func transpose8x8(_ src: UnsafePointer<Float>, ld: Int, _ dst: UnsafeMutablePointer<Float>, ldd: Int) {
    let t = transposed8x8(
        load8(src), load8(src + ld), load8(src + 2 * ld), load8(src + 3 * ld),
        load8(src + 4 * ld), load8(src + 5 * ld), load8(src + 6 * ld), load8(src + 7 * ld))
    store8(t.0, dst); store8(t.1, dst + ldd); store8(t.2, dst + 2 * ldd); store8(t.3, dst + 3 * ldd)
    store8(t.4, dst + 4 * ldd); store8(t.5, dst + 5 * ldd); store8(t.6, dst + 6 * ldd);
    store8(t.7, dst + 7 * ldd)
}

/// The columns of the 8×8 matrix whose rows are `r0 … r7`, built from lane selections that
/// LLVM turns into unpck/shuf/perm2f128 shuffles (the classic 24-shuffle AVX transpose).
@inline(__always)
func transposed8x8(
    _ r0: F8, _ r1: F8, _ r2: F8, _ r3: F8, _ r4: F8, _ r5: F8, _ r6: F8, _ r7: F8
)
    -> (F8, F8, F8, F8, F8, F8, F8, F8)
{
    // Stage 1: interleave pairs of rows (unpcklps / unpckhps within each 128-bit half).
    @inline(__always) func lo(_ x: F8, _ y: F8) -> F8 { F8(x[0], y[0], x[1], y[1], x[4], y[4], x[5], y[5]) }
    @inline(__always) func hi(_ x: F8, _ y: F8) -> F8 { F8(x[2], y[2], x[3], y[3], x[6], y[6], x[7], y[7]) }
    let t0 = lo(r0, r1), t1 = hi(r0, r1), t2 = lo(r2, r3), t3 = hi(r2, r3)
    let t4 = lo(r4, r5), t5 = hi(r4, r5), t6 = lo(r6, r7), t7 = hi(r6, r7)
    // Stage 2: pairs of pairs (shufps 0x44 / 0xEE).
    @inline(__always) func lo2(_ x: F8, _ y: F8) -> F8 { F8(x[0], x[1], y[0], y[1], x[4], x[5], y[4], y[5]) }
    @inline(__always) func hi2(_ x: F8, _ y: F8) -> F8 { F8(x[2], x[3], y[2], y[3], x[6], x[7], y[6], y[7]) }
    let u0 = lo2(t0, t2), u1 = hi2(t0, t2), u2 = lo2(t1, t3), u3 = hi2(t1, t3)
    let u4 = lo2(t4, t6), u5 = hi2(t4, t6), u6 = lo2(t5, t7), u7 = hi2(t5, t7)
    // Stage 3: swap 128-bit halves (vperm2f128 0x20 / 0x31).
    @inline(__always) func low128(_ x: F8, _ y: F8) -> F8 { F8(lowHalf: x.lowHalf, highHalf: y.lowHalf) }
    @inline(__always) func high128(_ x: F8, _ y: F8) -> F8 { F8(lowHalf: x.highHalf, highHalf: y.highHalf) }
    return (
        low128(u0, u4), low128(u1, u5), low128(u2, u6), low128(u3, u7),
        high128(u0, u4), high128(u1, u5), high128(u2, u6), high128(u3, u7)
    )
}

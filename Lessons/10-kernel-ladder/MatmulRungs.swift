// Lessons/10-kernel-ladder/MatmulRungs.swift · Lesson 10 · rungs 1-7 of the matmul ladder
// C = A·B with A [m, k], B [k, n], C [m, n], all row-major Float32, each rung one change from
// the one before. Every rung takes raw pointers, so no rung pays Swift's array bounds checks and
// each difference you time is the one change the comment names. main.swift runs, times and checks
// them; the shipped kernel they lead to is Sources/SIMDCoreAVX2/Gemm*.swift.
import DINOCore

/// A matmul rung: `c = a·b`, `a` is `m × k`, `b` is `k × n`, `c` is `m × n`, row-major.
typealias MatmulRung = (
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    _ m: Int, _ k: Int, _ n: Int
) -> Void

// MARK: Rung 1 · the naive i-j-k loop
/// `c[i, j] = Σ_p a[i, p]·b[p, j]`, the formula as written, summed in Float.
///
/// The inner loop walks down a column of B: consecutive `p` are `n` floats apart, so every step
/// touches a new cache line and uses 4 of its 64 bytes. And the sum is one chain of dependent
/// additions: each `+=` waits for the previous one (3-4 cycles), so even with B in cache this loop
/// cannot go faster than one multiply-add every few cycles. The compiler may not reorder the sum
/// (Float addition is not associative), so it stays scalar.
func matmulNaive(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    _ m: Int, _ k: Int, _ n: Int
) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }  // b: stride n, a new line each step
            c[i * n + j] = sum
        }
    }
}

// MARK: Rung 2 · the i-k-j loop order
/// The same sums with the two inner loops swapped: for each `a[i, p]`, add `a[i, p]·b[p, 0..<n]`
/// to the whole row `c[i, 0..<n]`.
///
/// What changed: the inner loop now runs along a row of B and a row of C, both unit stride, so
/// every byte of every cache line is used and the hardware prefetcher sees two plain streams. And
/// the `n` updates of the inner loop are independent (no running sum), so LLVM vectorises it by
/// itself (objdump: `vmulps` + `vaddps` on ymm registers, four vectors, 32 columns per step, after
/// a run-time check that the rows of B and C do not overlap). Each element of C still collects its
/// terms in order p = 0, 1, 2, …: the same rounding as rung 1, only a different schedule.
/// What it costs: C's row is loaded and stored again for every `p`: two loads and a store per 8
/// multiply-adds. That, not B, is its limit: it ran at the same 17-19 GFLOP/s at N = 256 (B in L2),
/// 500, 512 and 1024 (B, 4 MiB, from L3).
func matmulIKJ(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    _ m: Int, _ k: Int, _ n: Int
) {
    for i in 0..<m {
        let ci = c + i * n  // row i of C   [n]
        for j in 0..<n { ci[j] = 0 }
        for p in 0..<k {
            let aip = a[i * k + p], bp = b + p * n  // row p of B   [n]
            for j in 0..<n { ci[j] += aip * bp[j] }
        }
    }
}

// MARK: Rung 3 · cache blocking
/// Rung 2 on blocks: `kc` rows × `nc` columns of B at a time, reused by every row of A.
///
/// What changed: in rung 2 each row i of C reads all of B, k·n floats (1 MiB at 512², twice a
/// Zen 3 core's 512 KiB L2), so B comes from L3 m times over. Here a block of B, kc × nc =
/// 128 × 256 floats = 128 KiB, is finished by all m rows of A before the next block starts: it is
/// read from L3 once and then from L2, with room to spare for A and C. Inside the block the row
/// segment of C being updated (nc = 256 floats, 1 KiB) and the B row segment streaming past it
/// (1 KiB) sit in the 32 KiB L1. The sizes are round numbers well inside the caches, not tuned:
/// try others. The order of the additions into each c[i, j] is still p = 0, 1, 2, …
/// Measured: no faster than rung 2, a little slower (0.8× at 512³ and 1024³, level at 256³).
/// Rung 2 was never waiting for B (see above), so keeping B in L2 saves nothing, and blocking
/// costs: every row segment of C is now read and written once per K block (4 times at K = 512)
/// and the inner loop is half as long. Blocks pay once the arithmetic is fast enough to starve:
/// rungs 6-8 use them, and the shipped driver blocks K as little as it can because of exactly
/// this traffic over C (GemmDriver.swift).
let blockedKC = 128, blockedNC = 256

func matmulBlocked(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    _ m: Int, _ k: Int, _ n: Int
) {
    for i in 0..<(m * n) { c[i] = 0 }
    for jc in stride(from: 0, to: n, by: blockedNC) {
        let jEnd = min(jc + blockedNC, n)
        for pc in stride(from: 0, to: k, by: blockedKC) {
            let pEnd = min(pc + blockedKC, k)
            // The B block [pc..<pEnd, jc..<jEnd] stays in L2 for all m rows.
            for i in 0..<m {
                let ci = c + i * n
                for p in pc..<pEnd {
                    let aip = a[i * k + p], bp = b + p * n
                    for j in jc..<jEnd { ci[j] += aip * bp[j] }
                }
            }
        }
    }
}

// MARK: Rung 4 · explicit SIMD lanes and FMA
/// Rung 3 with the inner loop written in `SIMD8<Float>` (one 256-bit ymm register, 8 columns)
/// and `addingProduct`, a fused multiply-add: one instruction and one rounding for `c + a·b`.
///
/// What changed: rung 3 was already vectorised by LLVM, but with a multiply and a separate add
/// (Swift does not fuse them on its own, since fusing changes the rounding). Here every 8 columns
/// cost one FMA. What did not change: each FMA still needs a load of C, a load of B and a store of
/// C. The loop feeds the FMA units from L1 at three memory operations per 16 flops, and the
/// memory ports, not the FMA units, set its speed: measured, it is no faster than rung 3 (12.4-12.5
/// against 13.8-14.1 GFLOP/s at 512³; LLVM's version does four vectors per step, this one two).
/// The next rung fixes exactly that.
func matmulSIMD(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    _ m: Int, _ k: Int, _ n: Int
) {
    for i in 0..<(m * n) { c[i] = 0 }
    for jc in stride(from: 0, to: n, by: blockedNC) {
        let jEnd = min(jc + blockedNC, n)
        for pc in stride(from: 0, to: k, by: blockedKC) {
            let pEnd = min(pc + blockedKC, k)
            for i in 0..<m {
                let ci = c + i * n
                for p in pc..<pEnd {
                    let aip = a[i * k + p], bp = b + p * n
                    let av = SIMD8<Float>(repeating: aip)  // a[i, p] in all 8 lanes
                    var j = jc
                    while j + 16 <= jEnd {  // two vectors per step
                        store8(load8(ci + j).addingProduct(av, load8(bp + j)), ci + j)
                        store8(load8(ci + j + 8).addingProduct(av, load8(bp + j + 8)), ci + j + 8)
                        j += 16
                    }
                    if j + 8 <= jEnd {
                        store8(load8(ci + j).addingProduct(av, load8(bp + j)), ci + j)
                        j += 8
                    }
                    while j < jEnd { ci[j] = ci[j].addingProduct(aip, bp[j]); j += 1 }  // ragged tail
                }
            }
        }
    }
}

// MARK: Rung 5 · a 6×16 register tile
/// Rung 4 turned inside out: a tile of C, 6 rows × 16 columns, lives in twelve `SIMD8`
/// accumulators (registers) while p runs through the whole K block; C is loaded once and stored
/// once per tile and block, not once per p.
///
/// What changed: per step of p the tile loads 2 vectors of B (16 columns of row p) and 6 values of
/// A (one per row, each broadcast to 8 lanes), and issues 12 FMAs: 12 FMAs per 8 loads, where
/// rung 4 did 1 FMA per 3 memory operations. The 12 accumulators are independent, so 12 FMAs are
/// in flight, enough to hide the FMA latency (2 units × 4 cycles = 8 needed). 12 accumulators + 2
/// B vectors + 1 broadcast = 15 of the 16 ymm registers: that is why the tile is 6×16 and not
/// bigger. What it still costs: A is read from 6 rows of the original matrix and B down a
/// 16-wide column strip (stride n), and tiles that do not fit at the edges of C (m % 6 rows,
/// n % 16 columns) fall back to a plain loop.
func matmulRegisterTile(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    _ m: Int, _ k: Int, _ n: Int
) {
    let mFull = m / 6 * 6, nFull = n / 16 * 16
    for pc in stride(from: 0, to: k, by: tileKC) {
        let kc = min(tileKC, k - pc), first = pc == 0
        for jc in stride(from: 0, to: nFull, by: blockedNC) {
            let jEnd = min(jc + blockedNC, nFull)
            for i in stride(from: 0, to: mFull, by: 6) {
                for j in stride(from: jc, to: jEnd, by: 16) {
                    tile6x16(
                        kc, a + i * k + pc, lda: k, b + pc * n + j, ldb: n, c + i * n + j, ldc: n, add: !first
                    )
                }
            }
        }
        // The edges: rows mFull..<m (all columns) and columns nFull..<n (full rows), plain loops.
        edgeUpdate(a, b, c, rows: mFull..<m, cols: 0..<n, depths: pc..<(pc + kc), k: k, n: n, first: first)
        edgeUpdate(
            a, b, c, rows: 0..<mFull, cols: nFull..<n, depths: pc..<(pc + kc), k: k, n: n, first: first)
    }
}

/// Depth of one K block for rungs 5-7: a 6 × 256 A panel (6 KiB) and the 16 × 256 strip of B
/// (16 KiB) passing it fit in L1 together.
let tileKC = 256

/// The 6×16 micro-kernel on unpacked operands: `C[6, 16] (+)= A[6, kc]·B[kc, 16]`, where row r of
/// A starts at `a + r·lda` and row p of B at `b + p·ldb`.
@inline(__always)
func tile6x16(
    _ kc: Int, _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    _ c: UnsafeMutablePointer<Float>, ldc: Int, add: Bool
) {
    var c00 = SIMD8<Float>(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00
    var c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00
    let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda
    var bp = b
    for p in 0..<kc {
        let b0 = load8(bp), b1 = load8(bp + 8)  // 16 columns of B's row p
        var x = SIMD8<Float>(repeating: a0[p])
        c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: a1[p])
        c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: a2[p])
        c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: a3[p])
        c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: a4[p])
        c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: a5[p])
        c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        bp += ldb
    }
    writeTile(c, ldc: ldc, add: add, (c00, c01), (c10, c11), (c20, c21), (c30, c31), (c40, c41), (c50, c51))
}

/// Stores (or, for later K blocks, adds) six rows of two vectors into C.
@inline(__always)
func writeTile(
    _ c: UnsafeMutablePointer<Float>, ldc: Int, add: Bool, _ r0: (SIMD8<Float>, SIMD8<Float>),
    _ r1: (SIMD8<Float>, SIMD8<Float>), _ r2: (SIMD8<Float>, SIMD8<Float>),
    _ r3: (SIMD8<Float>, SIMD8<Float>),
    _ r4: (SIMD8<Float>, SIMD8<Float>), _ r5: (SIMD8<Float>, SIMD8<Float>)
) {
    @inline(__always) func put(_ r: Int, _ row: (SIMD8<Float>, SIMD8<Float>)) {
        let p = c + r * ldc
        if add {
            store8(load8(p) + row.0, p)
            store8(load8(p + 8) + row.1, p + 8)
        } else {
            store8(row.0, p)
            store8(row.1, p + 8)
        }
    }
    put(0, r0); put(1, r1); put(2, r2); put(3, r3); put(4, r4); put(5, r5)
}

/// `C[rows, cols] (+)= A[rows, depths]·B[depths, cols]` by a plain loop: the edges of rung 5.
func edgeUpdate(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    rows: Range<Int>, cols: Range<Int>, depths: Range<Int>, k: Int, n: Int, first: Bool
) {
    for i in rows {
        for j in cols {
            var sum: Float = first ? 0 : c[i * n + j]
            for p in depths { sum = sum.addingProduct(a[i * k + p], b[p * n + j]) }
            c[i * n + j] = sum
        }
    }
}

// MARK: Rung 6 · packing
/// Rung 5 fed from copies: before the tiles run, a block of B (kc × nc) is copied into panels of
/// 16 columns stored depth by depth (`[p][16]`), and each 6-row strip of A into a panel stored
/// depth by depth (`[p][6]`). The micro-kernel then reads both operands as two contiguous
/// streams, one pointer each, advanced by a constant.
///
/// What changed, and why it is faster: (1) in rung 5 one step of p touched 6 rows of A and a row
/// of B n floats away from the last: 7 streams, and at power-of-two n they all map to the same
/// few cache sets and evict each other; packed, each panel is one sequential stream. (2) The
/// copies pad ragged edges with zeros, so every tile is a full 6×16 tile: no slow edge loop (a
/// tile hanging over C's edge runs into a scratch tile and copies back only its valid part).
/// (3) The copies are cheap: each packed B panel is re-read by every 6-row panel of A (m/6
/// times), each A panel by every B panel (nc/16 times).
/// Sizes: kc = 256, as in rung 5; nc = 384, so a packed B block is 256 × 384 floats = 384 KiB,
/// held in the 512 KiB L2 while all of A's panels pass it.
let packedNC = 384

func matmulPacked(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    _ m: Int, _ k: Int, _ n: Int
) {
    let kcMax = min(tileKC, k), ncMax = min(packedNC, (n + 15) / 16 * 16)
    let bPack = UnsafeMutablePointer<Float>.allocate(capacity: kcMax * ncMax)  // [nc/16][kc][16]
    let aPack = UnsafeMutablePointer<Float>.allocate(capacity: kcMax * 6)  // [kc][6]
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 6 * 16)  // one tile, for edges
    defer { bPack.deallocate(); aPack.deallocate(); scratch.deallocate() }
    for pc in stride(from: 0, to: k, by: tileKC) {
        let kc = min(tileKC, k - pc), first = pc == 0
        for jc in stride(from: 0, to: n, by: packedNC) {
            let nc = min(packedNC, n - jc)
            packB(b, n: n, rows: pc..<(pc + kc), cols: jc..<(jc + nc), into: bPack)
            for i in stride(from: 0, to: m, by: 6) {
                let mr = min(6, m - i)
                packA(a, k: k, rows: i..<(i + mr), depths: pc..<(pc + kc), into: aPack)
                for jr in stride(from: 0, to: nc, by: 16) {
                    let nr = min(16, nc - jr), bPanel = bPack + jr * kc
                    if mr == 6 && nr == 16 {
                        packedTile6x16(kc, aPack, bPanel, c + i * n + jc + jr, ldc: n, add: !first)
                    } else {
                        // A tile over C's edge: compute all 6×16 into the scratch tile (the padded
                        // rows and columns are zeros), then add only the valid mr × nr part to C.
                        packedTile6x16(kc, aPack, bPanel, scratch, ldc: 16, add: false)
                        for r in 0..<mr {
                            for l in 0..<nr {
                                let q = c + (i + r) * n + jc + jr + l
                                q.pointee = first ? scratch[r * 16 + l] : q.pointee + scratch[r * 16 + l]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Copies `B[rows, cols]` into panels of 16 columns, depth-major: panel q, depth p is
/// `dst[q·16·kc + p·16 ..< +16]`. Columns past the block's end are zero.
func packB(
    _ b: UnsafePointer<Float>, n: Int, rows: Range<Int>, cols: Range<Int>,
    into dst: UnsafeMutablePointer<Float>
) {
    let kc = rows.count
    for (p, row) in rows.enumerated() {
        let src = b + row * n
        for (q, j0) in stride(from: cols.lowerBound, to: cols.upperBound, by: 16).enumerated() {
            let d = dst + q * 16 * kc + p * 16
            if j0 + 16 <= cols.upperBound {
                store8(load8(src + j0), d)
                store8(load8(src + j0 + 8), d + 8)
            } else {
                for l in 0..<16 { d[l] = j0 + l < cols.upperBound ? src[j0 + l] : 0 }
            }
        }
    }
}

/// Copies `A[rows, depths]` (up to 6 rows) into one panel, depth-major: depth p is
/// `dst[6p ..< 6p + 6]`. Rows past the end are zero.
func packA(
    _ a: UnsafePointer<Float>, k: Int, rows: Range<Int>, depths: Range<Int>,
    into dst: UnsafeMutablePointer<Float>
) {
    for r in 0..<6 {
        let i = rows.lowerBound + r
        if i < rows.upperBound {
            let src = a + i * k + depths.lowerBound
            for p in 0..<depths.count { dst[p * 6 + r] = src[p] }
        } else {
            for p in 0..<depths.count { dst[p * 6 + r] = 0 }
        }
    }
}

/// The 6×16 micro-kernel on packed panels: `a` is `[kc][6]`, `b` is `[kc][16]`. The same 12
/// accumulators and 12 FMAs per step as `tile6x16`, now with one pointer per operand advanced by
/// a constant (6 and 16 floats). Not inlined, so its register allocation is decided once.
@inline(never)
func packedTile6x16(
    _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    ldc: Int, add: Bool
) {
    var c00 = SIMD8<Float>(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00
    var c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00
    var ap = a, bp = b
    for _ in 0..<kc {
        let b0 = load8(bp), b1 = load8(bp + 8)
        var x = SIMD8<Float>(repeating: ap[0])
        c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: ap[1])
        c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: ap[2])
        c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: ap[3])
        c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: ap[4])
        c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        x = SIMD8<Float>(repeating: ap[5])
        c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        ap += 6
        bp += 16
    }
    writeTile(c, ldc: ldc, add: add, (c00, c01), (c10, c11), (c20, c21), (c30, c31), (c40, c41), (c50, c51))
}

// MARK: Rung 7 · threads
/// Rung 6 on every core: C's rows are cut into chunks (a multiple of 6 rows each, two chunks per
/// thread) and `Threads.parallelFor` hands them to the worker pool; each chunk is an independent
/// rung-6 product `C[rows] = A[rows]·B` with its own packing buffers.
///
/// What changed: the arithmetic is the same, now on `Threads.count` cores at once. Two chunks per
/// thread rather than one, because on a shared machine a thread that is slowed down by another
/// process would otherwise hold back the whole call; with two, the other thread takes the
/// remaining chunk. The price: every chunk packs all of B itself (duplicated work, small next to
/// the m/chunks × n × k multiply-adds it feeds). Small products are not worth a fork/join: the
/// shipped kernel runs one thread below 4M multiply-adds.
func matmulThreaded(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    _ m: Int, _ k: Int, _ n: Int
) {
    let tiles = (m + 5) / 6, chunks = min(tiles, 2 * Threads.count)
    Threads.parallelFor(chunks) { t in
        let lo = tiles * t / chunks * 6, hi = min(m, tiles * (t + 1) / chunks * 6)
        if lo < hi { matmulPacked(a + lo * k, b, c + lo * n, hi - lo, k, n) }
    }
}

// MARK: Vector loads and stores
/// Eight floats from `p` (any alignment).
@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Eight floats to `p` (any alignment).
@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

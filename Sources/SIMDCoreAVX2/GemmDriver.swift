import DINOCore
import Foundation

// The blocking loops around the micro-kernel (after Goto & van de Geijn 2008 and BLIS's "five
// loops", in the order that measured fastest here):
//
//   for pc in K by kc              (pack all of A's rows [· × kc], unless packed per panel below)
//     for jc in N by nc            B block [kc × nc]   packed once per (pc, jc), streams via L2
//       for ir in M by 6           A panel [6 × kc]    stays in L1 for the whole jr loop
//         for jr in nc by 16       B panel [kc × 16]   streams from L2
//           micro-kernel 6×16      C tile  [6 × 16]    walked along C's rows
//
// Two choices matter most. (1) The A panel, not the B panel, is the L1-resident operand, so the
// jr loop walks along six rows of C: the C tiles are read and written as six sequential
// streams the hardware prefetcher follows (walking down C's columns instead stalled on a cache
// miss per tile, ~20% of the time). (2) K is blocked as little as possible (one block up to
// K = 640), because every extra K block re-reads and re-writes all of C.
//
// The first K block writes C (or adds to it when accumulating) and adds the bias; later K blocks
// add to C. Tiles ragged in M write only their rows; tiles ragged in N run the same micro-kernel
// into a 6×16 scratch tile and copy the valid part.

/// Block sizes, tuned on a Zen 3 core (32 KiB L1d, 512 KiB L2) against OpenBLAS; see
/// Walkthroughs/00-kernels.md for the measurements.
enum GemmBlocking {
    /// kc: the depth of one K block. A·B and A·Bᵀ pack A one panel at a time, so only C
    /// passes count: up to K = 640 one block (C is written once), beyond that blocks of ≤ 384
    /// (up to K = 1536) or ≤ 256 (at K = 768, two 384-deep blocks beat three 256-deep ones).
    /// Aᵀ·B packs all of A's rows per K block, so it keeps kc ≤ 256: that block then stays
    /// small, and a 6×256 A panel (8 KiB with its padding) plus the 16×256 B panel streaming
    /// past it (16 KiB) fit in L1 (at K = 512, one 512-deep block measured 10% slower than two
    /// of 256).
    static func depthBlock(_ k: Int, _ layout: MatmulLayout) -> Int {
        if layout == .tn { return balancedBlock(k, maximum: 256, unit: 8) }
        if k <= 640 { return k }
        return balancedBlock(k, maximum: k <= 1536 ? 384 : 256, unit: 8)
    }

    /// kc·nc, the floats of one packed B block (576 KiB, about one L2; it streams through L2
    /// rather than living there, so a bit more than fits measured better than less).
    static let bBlockFloats = 144 * 1024

    /// Below this many multiply-adds one thread is faster than paying for the fork/join.
    static let parallelThreshold = 4 << 20

    /// Work is cut into this many chunks per thread. Dispatch hands chunks out as threads come
    /// free, so when another process takes part of one core the other thread picks up the slack
    /// (measured on a shared machine: 2 chunks per thread ran 20-40% faster than 1). The price,
    /// one more pack of the operand every chunk needs, is under 1% at these sizes.
    static let chunksPerThread = 2
}

/// `n` split into `ceil(n / maximum)` nearly equal blocks, each rounded up to a multiple of
/// `unit` (so the last block is the ragged one, and never tiny).
@inline(__always)
func balancedBlock(_ n: Int, maximum: Int, unit: Int) -> Int {
    let blocks = max(1, (n + maximum - 1) / maximum)
    let per = (n + blocks - 1) / blocks
    return min(maximum, (per + unit - 1) / unit * unit)
}

/// Packing buffers for one thread of one call, reused across calls: a pool hands them out and
/// takes them back, so the steady state allocates nothing.
final class GemmWorkspace: @unchecked Sendable {
    private(set) var a: UnsafeMutablePointer<Float>
    private(set) var b: UnsafeMutablePointer<Float>
    /// A partial C for threads that split K.
    private(set) var c: UnsafeMutablePointer<Float>
    private var aCapacity = 0, bCapacity = 0, cCapacity = 0
    /// One 6×16 tile for ragged edges.
    let tile: UnsafeMutablePointer<Float>

    init() {
        a = Self.allocate(0)
        b = Self.allocate(0)
        c = Self.allocate(0)
        tile = Self.allocate(gemmMR * gemmNR)
    }

    deinit {
        a.deallocate()
        b.deallocate()
        c.deallocate()
        tile.deallocate()
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 16))
    }

    /// Grows the buffers to at least `aCount` and `bCount` floats (never shrinks).
    func reserve(a aCount: Int, b bCount: Int) {
        if aCount > aCapacity {
            a.deallocate()
            a = Self.allocate(aCount)
            aCapacity = aCount
        }
        if bCount > bCapacity {
            b.deallocate()
            b = Self.allocate(bCount)
            bCapacity = bCount
        }
    }

    /// Grows the scratch C to at least `count` floats.
    func reserve(c count: Int) {
        if count > cCapacity {
            c.deallocate()
            c = Self.allocate(count)
            cCapacity = count
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [GemmWorkspace] = []

    /// A workspace nobody else is using (a pooled one if any, else a new one).
    static func acquire() -> GemmWorkspace {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? GemmWorkspace()
    }

    /// Returns a workspace to the pool.
    static func release(_ workspace: GemmWorkspace) {
        lock.lock()
        free.append(workspace)
        lock.unlock()
    }
}

/// The operands of one matmul call as raw pointers, with the layout and the sizes of op(A)
/// `[M, K]` and op(B) `[K, N]`. C (and a partial C) is `[M, N]`, row stride N.
struct GemmOperands: @unchecked Sendable {
    let layout: MatmulLayout
    let a: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let c: UnsafeMutablePointer<Float>
    let bias: UnsafePointer<Float>?
    let m: Int, k: Int, n: Int
    let accumulate: Bool
}

extension GemmOperands {
    /// Runs the whole product (M, K, N ≥ 1), on one thread or split across `Threads.count` threads.
    func run() {
        let threads = m * n * k >= GemmBlocking.parallelThreshold ? max(1, Threads.count) : 1
        if threads > 1 && k >= 2 * max(m, n) {
            runSplitK(parts: min(threads * GemmBlocking.chunksPerThread, k / 64))
            return
        }
        // Split the larger output dimension: each thread then packs the whole of the smaller
        // operand and its own share of the larger one (the duplicated packing is the cheap part).
        let splitRows = m >= n
        let unit = splitRows ? gemmMR : gemmNR
        let extent = splitRows ? m : n
        let tiles = (extent + unit - 1) / unit
        let chunks = min(threads > 1 ? threads * GemmBlocking.chunksPerThread : 1, tiles)
        if chunks <= 1 {
            let workspace = GemmWorkspace.acquire()
            block(rows: 0..<m, cols: 0..<n, depths: 0..<k, workspace)
            GemmWorkspace.release(workspace)
            return
        }
        Threads.parallelFor(chunks) { t in
            let lo = tiles * t / chunks * unit, hi = min(extent, tiles * (t + 1) / chunks * unit)
            guard lo < hi else { return }
            let workspace = GemmWorkspace.acquire()
            if splitRows {
                block(rows: lo..<hi, cols: 0..<n, depths: 0..<k, workspace)
            } else {
                block(rows: 0..<m, cols: lo..<hi, depths: 0..<k, workspace)
            }
            GemmWorkspace.release(workspace)
        }
    }

    /// Deep and narrow products (the weight gradient `dW = dyᵀ·x`, K = 4160 rows, C only
    /// 192 × 576): threads split K instead of C, so neither operand is packed twice. Part 0 writes
    /// C (with bias and accumulation); part t > 0 writes its partial product into its
    /// workspace's scratch C; then the partials are added into C, rows split across threads.
    private func runSplitK(parts: Int) {
        withUnsafeTemporaryAllocation(of: GemmWorkspace.self, capacity: parts) { spaces in
            for t in 0..<parts {
                let workspace = GemmWorkspace.acquire()
                if t > 0 { workspace.reserve(c: m * n) }
                (spaces.baseAddress! + t).initialize(to: workspace)
            }
            let units = (k + 7) / 8
            Threads.parallelFor(parts) { t in
                let lo = units * t / parts * 8, hi = min(k, units * (t + 1) / parts * 8)
                let part =
                    t == 0
                    ? self
                    : GemmOperands(
                        layout: layout, a: a, b: b, c: spaces[t].c, bias: nil, m: m, k: k, n: n,
                        accumulate: false)
                part.block(rows: 0..<m, cols: 0..<n, depths: lo..<hi, spaces[t])
            }
            let rowChunks = min(parts, m)
            Threads.parallelFor(rowChunks) { t in
                let lo = m * t / rowChunks * n, hi = m * (t + 1) / rowChunks * n
                for part in 1..<parts {
                    let partial = spaces[part].c
                    var i = lo
                    while i + 8 <= hi { store8(load8(c + i) + load8(partial + i), c + i); i += 8 }
                    while i < hi { c[i] += partial[i]; i += 1 }
                }
            }
            for t in 0..<parts { GemmWorkspace.release((spaces.baseAddress! + t).move()) }
        }
    }

    /// The loops over the sub-problem `C[rows, cols]`, single-threaded.
    private func block(rows: Range<Int>, cols: Range<Int>, depths: Range<Int>, _ workspace: GemmWorkspace) {
        let kcBlock = GemmBlocking.depthBlock(depths.count, layout)
        let ncBlock = balancedBlock(
            cols.count, maximum: max(gemmNR, GemmBlocking.bBlockFloats / kcBlock), unit: gemmNR)
        // A·B and A·Bᵀ pack A panel by panel, just before use, when one B block covers all the
        // columns (A is then packed exactly once and the panel is still in L1 when the kernel
        // reads it). Otherwise, and always for Aᵀ·B, whose pack reads 6 floats from each of kc
        // rows of A (fast only when all panels are packed together, row by row), the whole row
        // range is packed once per K block and re-read for every B block instead of re-packed.
        let perPanel = layout != .tn && cols.count <= ncBlock
        let rowsPadded = (rows.count + gemmMR - 1) / gemmMR * gemmMR
        workspace.reserve(
            a: (perPanel ? gemmMR : rowsPadded) / gemmMR * gemmAStride * kcBlock,
            b: (ncBlock + gemmNR - 1) / gemmNR * gemmNR * kcBlock)
        let aPack = workspace.a, bPack = workspace.b

        var pc = depths.lowerBound
        while pc < depths.upperBound {
            let kc = min(kcBlock, depths.upperBound - pc)
            let first = pc == depths.lowerBound
            if !perPanel { packA(aPack, i0: rows.lowerBound, mc: rows.count, p0: pc, kc: kc) }
            var jc = cols.lowerBound
            while jc < cols.upperBound {
                let nc = min(ncBlock, cols.upperBound - jc)
                packB(bPack, j0: jc, nc: nc, p0: pc, kc: kc)
                var ir = rows.lowerBound
                while ir < rows.upperBound {
                    let mr = min(gemmMR, rows.upperBound - ir)
                    let aPanel: UnsafeMutablePointer<Float>
                    if perPanel {
                        packA(aPack, i0: ir, mc: mr, p0: pc, kc: kc)
                        aPanel = aPack
                    } else {
                        aPanel = aPack + (ir - rows.lowerBound) / gemmMR * gemmAStride * kc
                    }
                    var jr = 0
                    while jr < nc {
                        let nr = min(gemmNR, nc - jr)
                        let bPanel = bPack + jr * kc
                        let j = jc + jr
                        let cTile = c + ir * n + j
                        if nr == gemmNR {
                            // Full width (possibly fewer than 6 rows): straight into C.
                            let epilogue = GemmEpilogue(
                                addC: !first || accumulate, bias: first ? bias.map { $0 + j } : nil, rows: mr)
                            gemmMicroKernel(kc, aPanel, bPanel, cTile, ldc: n, epilogue)
                        } else {
                            // Ragged in N: through a scratch tile, so nothing past column N is touched.
                            gemmMicroKernel(
                                kc, aPanel, bPanel, workspace.tile, ldc: gemmNR,
                                GemmEpilogue(addC: false, bias: nil))
                            raggedWriteBack(workspace.tile, cTile, mr: mr, nr: nr, j: j, first: first)
                        }
                        jr += gemmNR
                    }
                    ir += gemmMR
                }
                jc += nc
            }
            pc += kc
        }
    }

    /// The epilogue of a partial tile: the valid `mr × nr` corner of the scratch tile.
    @inline(__always)
    private func raggedWriteBack(
        _ tile: UnsafeMutablePointer<Float>, _ cTile: UnsafeMutablePointer<Float>, mr: Int, nr: Int, j: Int,
        first: Bool
    ) {
        for r in 0..<mr {
            let row = cTile + r * n
            for l in 0..<nr {
                var v = tile[r * gemmNR + l]
                if first, let bias { v += bias[j + l] }
                row[l] = (!first || accumulate) ? row[l] + v : v
            }
        }
    }
}

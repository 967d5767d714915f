// Lessons/10-kernel-ladder/main.swift · Lesson 10 · The kernel ladder · Walkthroughs/10-kernel-ladder.md
// One kernel, the matmul C = A·B, taken rung by rung from the reference loop to the shipped SIMD kernel
// (naive loop, loop order, cache blocking, SIMD lanes, a register tile, packing, threads), then softmax
// the same way; every rung run, timed (median after a warm-up), checked against the reference and set
// against this CPU's measured FMA peak. The rungs are MatmulRungs.swift and SoftmaxRungs.swift in this
// folder; the engineering report behind the shipped kernels is Walkthroughs/00-kernels.md.
// Run: swift run -c release lesson10-kernel-ladder   (about 10-20 s on 2 cores; --quick: 96³ and 64×1024, under a second)
// Flags: --size N (the matmul is N×N by N×N), --rows R and --cols K (the softmax input), --tau T
import Benchmarks
import DINOCore
import DINOLesson
import DINOPlot
import Foundation
import KernelCheck
import ReferenceCore
import SIMDCore

setvbuf(stdout, nil, _IOLBF, 0)
var lesson = Lesson(
    "10-kernel-ladder", title: "The kernel ladder: from the reference loop to the shipped kernel",
    knobs: [
        Knob("--size", "N", "the matmul multiplies two N×N matrices", default: "512"),
        Knob("--rows", "R", "rows of the softmax input", default: "256"),
        Knob("--cols", "K", "columns of the softmax input (DINO's prototypes)", default: "4096"),
        Knob("--tau", "T", "the softmax temperature", default: "0.04"),
    ])
let size = lesson.int("--size", default: lesson.quick ? 96 : 512, in: 16...2048)
let softmaxRows = lesson.int("--rows", default: lesson.quick ? 64 : 256, in: 1...16384)
let softmaxCols = lesson.int("--cols", default: lesson.quick ? 1024 : 4096, in: 1...65536)
let tau = Float(lesson.double("--tau", default: 0.04, in: 0.001...100))
let threads = Threads.count
let allThreads = threads == 1 ? "1 thread" : "\(threads) threads"

/// Writes one chart; an unwritable --plots folder ends the lesson with a one-line error.
func plotOrExit(_ name: String, _ data: Series, _ chart: ChartSpec) {
    do { try lesson.plot(name, data, chart) } catch { lessonFail("\(error)") }
}

/// Times kernels side by side: each gets one untimed warm-up call (caches, page faults, the
/// worker pool's threads), then in each of `rounds` rounds every kernel runs one sample, `calls`
/// back-to-back calls long enough to last about `sample` seconds (so a kernel of microseconds is
/// not timed at the clock's resolution). A kernel's time is the median over the rounds of sample
/// time / calls. Interleaving matters on a shared machine: a burst of someone else's work lands on
/// every kernel of the round it falls in, not on one rung, and the median drops that round.
func timeSideBySide(_ bodies: [() -> Void], rounds: Int, sample: Double) -> [(seconds: Double, calls: Int)] {
    func clock(_ calls: Int, _ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<calls { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    let calls = bodies.map { body -> Int in
        var once = clock(1, body)  // the warm-up, timed for an estimate
        if once < sample { once = min(once, clock(1, body)) }  // a first call can pay for page faults
        return max(1, min(10_000, Int((sample / max(once, 1e-8)).rounded(.up))))
    }
    var samples = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<rounds {
        for (i, body) in bodies.enumerated() { samples[i].append(clock(calls[i], body) / Double(calls[i])) }
    }
    return zip(samples, calls).map { (Stats.median($0.0), $0.1) }
}
let rounds = lesson.quick ? 5 : 7
let sampleSeconds = lesson.quick ? 0.002 : 0.02

/// An output tensor a timed closure writes into.
final class Output {
    var tensor: Tensor
    init(_ tensor: Tensor) { self.tensor = tensor }
}

/// Runs a pointer rung on tensors.
func callMatmul(_ rung: MatmulRung, _ a: Tensor, _ b: Tensor, _ c: inout Tensor, _ m: Int, _ k: Int, _ n: Int)
{
    a.storage.withUnsafeBufferPointer { ap in
        b.storage.withUnsafeBufferPointer { bp in
            c.storage.withUnsafeMutableBufferPointer { cp in
                rung(ap.baseAddress!, bp.baseAddress!, cp.baseAddress!, m, k, n)
            }
        }
    }
}

func callSoftmax(_ rung: SoftmaxRung, _ x: Tensor, _ p: inout Tensor, _ temperature: Float) {
    x.storage.withUnsafeBufferPointer { xp in
        p.storage.withUnsafeMutableBufferPointer { pp in
            rung(xp.baseAddress!, pp.baseAddress!, x.rows, x.cols, temperature)
        }
    }
}

/// How far `c` is from `reference`: the largest |Δ| relative to rms(reference), and the largest
/// |Δ| as a fraction of `tolerance`'s limit at that element (≥ 1 fails; NaN, from an element a
/// rung forgot to write, counts as infinitely far).
func distance(_ c: Tensor, _ reference: Tensor, _ tolerance: Tolerance) -> (relative: Double, ofLimit: Double)
{
    var worst = 0.0, worstFraction = 0.0, squares = 0.0
    for (x, r) in zip(c.storage, reference.storage) {
        let d = Double(abs(x - r))
        if !(d <= Double.greatestFiniteMagnitude) { return (.infinity, .infinity) }
        worst = max(worst, d)
        worstFraction = max(worstFraction, d / Double(tolerance.limit(r)))
        squares += Double(r) * Double(r)
    }
    return (worst / max((squares / Double(max(1, c.count))).squareRoot(), 1e-30), worstFraction)
}

func pad(_ s: String, _ width: Int) -> String {
    s.padding(toLength: max(width, s.count), withPad: " ", startingAt: 0)
}
func rpad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

// MARK: 1 · The machine and its ceiling
// A speed means little without the ceiling it is measured against. The ceiling of a matmul is
// the rate at which the CPU retires fused multiply-adds: `fmaPeak` runs 12 independent chains of
// 8-lane FMAs per thread (12 so that neither the FMA latency nor a load ever waits) and counts
// 2 flops per lane per FMA. Every rung below is set against it: rungs on one thread against the
// one-thread peak, rungs on all threads against the all-thread peak. All rungs here use 8-float
// (256-bit) vectors, so the peak is that of the 8-float build, whatever else the CPU can do. The
// peak is timed in the same rounds as the rungs (section 3), so both see the same machine: on a
// shared one, a peak measured alone a minute earlier can be lower than a rung measured later.
lesson.section("1 · The machine and its ceiling")
if !isOptimizedBuild {
    print("warning: a debug build; every timing below is meaningless (build with -c release)")
}
func cacheSizes() -> String {
    let base = "/sys/devices/system/cpu/cpu0/cache/index"
    let parts = (0..<4).compactMap { i -> String? in
        func read(_ f: String) -> String? {
            (try? String(contentsOfFile: "\(base)\(i)/\(f)", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
        }
        guard let level = read("level"), let type = read("type"), let size = read("size"),
            type != "Instruction"
        else { return nil }
        return "L\(level) \(size)"
    }
    return parts.isEmpty ? "cache sizes unknown" : parts.joined(separator: ", ") + " per core (L3 shared)"
}
print("CPU: \(cpuModel) · \(cacheSizes()) · SIMD threads: \(threads)")
print(
    "AVX-512 F/BW/DQ/VL (CPUID): \(SIMDPath.cpuHasAVX512 ? "yes" : "no") · the rungs use 8-float vectors (the \(SIMDPath.avx2.rawValue) build)"
)
let peakIterations = 500_000  // 12 × 500k FMAs of 8 lanes: about 1 ms per call on one thread here

// MARK: 2 · The yardstick: rung 0, the reference
// ReferenceKernels.matmul is the specification: three loops, every product and sum in Double,
// one rounding to Float at the end. It is slow on purpose and exact to the last bit a Float can
// hold, so it is what every rung is checked against.
//
// The tolerance. Every rung sums the same K products a_ip·b_pj in Float32, in some order: rungs
// 1-4 one long chain p = 0, 1, 2, …; rungs 5-8 one chain per K block, blocks added into C. Each
// Float addition rounds with an error up to u·|partial sum| (u = 2⁻²⁴ ≈ 6e-8), and partial sums of
// random-sign terms grow like √p·σ (σ = rms of one term = 1/3 for a, b uniform on [-1, 1]), so the
// K rounding errors add up like a random walk to about u·σ·K/√2. `Tolerance.reduction(count: K,
// rms: σ)` allows 8u·σ·K, eight times that, plus 4u·|c| for the final rounding (the derivation is
// in Sources/DINOCore/Tolerance.swift). A real bug (a term dropped, doubled or read from the wrong
// row) moves c by about σ, thousands of times the limit.
lesson.section("2 · The yardstick: rung 0, the reference (Double sums)")
let m = size, k = size, n = size
let a = lesson.rng.uniformTensor([m, k]), b = lesson.rng.uniformTensor([k, n])
let termRMS: Float = 1.0 / 3
let tolerance = Tolerance.reduction(count: k, rms: termRMS)
let flops = 2 * Double(m) * Double(k) * Double(n)
var reference = Tensor(shape: [m, n])
ReferenceKernels.matmul(a, b, layout: .nn, bias: nil, accumulate: false, into: &reference)
print(
    "A, B: \(m)×\(k) and \(k)×\(n), uniform on [-1, 1] · 2·N³ = \(String(format: "%.3g", flops)) flops per product"
)
print(
    String(
        format: "tolerance %@ (K = %d, σ = 1/3); one dropped term would move c by ≈ %.2f, %.0f× the limit",
        tolerance.description, k, Double(termRMS), Double(termRMS / tolerance.absolute)))

// MARK: 3 · The ladder, rung by rung
// Each rung is one change from the one before (MatmulRungs.swift says which and why). Each writes
// into its own output, filled with NaN first, so an element a rung forgets to write fails the
// check. All rungs, the reference included, are timed side by side (`timeSideBySide`).
lesson.section("3 · The matmul ladder at \(m)×\(k)×\(n)")
struct MatmulStep {
    let label: String
    let tic: String
    let threads: Int
    /// The build whose FMA peak is this rung's ceiling: the 8-float one but for rung 8b.
    var path = SIMDPath.avx2
    let run: (Tensor, Tensor, inout Tensor) -> Void
}
func pointerStep(_ label: String, _ tic: String, threads: Int = 1, _ rung: @escaping MatmulRung) -> MatmulStep
{
    MatmulStep(label: label, tic: tic, threads: threads) { a, b, c in
        callMatmul(rung, a, b, &c, a.rows, a.cols, b.cols)
    }
}
func shipped(_ path: SIMDPath, threads t: Int) -> (Tensor, Tensor, inout Tensor) -> Void {
    { a, b, c in
        Threads.with(t) {
            SIMDPath.with(path) {
                SIMDKernels.matmul(a, b, layout: .nn, bias: nil, accumulate: false, into: &c)
            }
        }
    }
}
var steps: [MatmulStep] = [
    MatmulStep(label: "0 reference (Double)", tic: "0 reference\\n(Double)", threads: 1) { a, b, c in
        ReferenceKernels.matmul(a, b, layout: .nn, bias: nil, accumulate: false, into: &c)
    },
    pointerStep("1 naive i-j-k", "1 naive\\ni-j-k", matmulNaive),
    pointerStep("2 loop order i-k-j", "2 loop order\\ni-k-j", matmulIKJ),
    pointerStep("3 cache blocks", "3 cache\\nblocks", matmulBlocked),
    pointerStep("4 SIMD8 + FMA", "4 SIMD8\\n+ FMA", matmulSIMD),
    pointerStep("5 6×16 register tile", "5 6x16\\nregister tile", matmulRegisterTile),
    pointerStep("6 packed panels", "6 packed\\npanels", matmulPacked),
    pointerStep("7 packed, \(allThreads)", "7 packed\\n\(allThreads)", threads: threads, matmulThreaded),
    MatmulStep(
        label: "8 shipped, 1 thread", tic: "8 shipped\\n1 thread", threads: 1, run: shipped(.avx2, threads: 1)
    ),
]
if threads > 1 {
    steps.append(
        MatmulStep(
            label: "8 shipped, \(allThreads)", tic: "8 shipped\\n\(allThreads)", threads: threads,
            run: shipped(.avx2, threads: threads)))
}
// The 512-bit build of the shipped kernel (16-float zmm vectors, an 8×32 tile) runs only where
// CPUID says the CPU has AVX-512 (`SIMDPath.with` refuses a path the CPU cannot run), against the
// 512-bit peak; nothing here pretends to have measured it elsewhere.
if SIMDPath.cpuHasAVX512 {
    steps.append(
        MatmulStep(
            label: "8b shipped, avx512", tic: "8b shipped\\navx512", threads: threads, path: .avx512,
            run: shipped(.avx512, threads: threads)))
}

struct StepResult {
    let label: String, tic: String, threads: Int, peak: Double, seconds: Double, calls: Int, relative: Double,
        ofLimit: Double
}
// The ceilings this ladder needs, (build, threads), timed as kernels of known flops.
var ceilings: [(path: SIMDPath, threads: Int)] = []
for step in steps where !ceilings.contains(where: { $0 == (step.path, step.threads) }) {
    ceilings.append((step.path, step.threads))
}
func peakFlops(_ path: SIMDPath, threads t: Int) -> Double {
    Double(t * peakIterations * 12 * 2) * Double(path == .avx2 ? 8 : 16)
}
let outputs = steps.map { _ in Output(Tensor(shape: [m, n], repeating: .nan)) }
let times = timeSideBySide(
    zip(steps, outputs).map { step, out in { step.run(a, b, &out.tensor) } }
        + ceilings.map { c in { _ = c.path.fmaPeak(threads: c.threads, iterations: peakIterations, runs: 1) }
        },
    rounds: rounds, sample: sampleSeconds)
func peak(_ path: SIMDPath, threads t: Int) -> Double {
    let i = ceilings.firstIndex { $0 == (path, t) }!
    return peakFlops(path, threads: t) / times[steps.count + i].seconds / 1e9
}
let peakOne = peak(.avx2, threads: 1), peakAll = peak(.avx2, threads: threads)
print(
    String(format: "FMA peak, 8-float vectors: %.1f GFLOP/s on 1 thread", peakOne)
        + (threads > 1 ? String(format: ", %.1f on %d threads", peakAll, threads) : "")
        + (SIMDPath.cpuHasAVX512
            ? String(format: "; 16-float vectors: %.1f on %d", peak(.avx512, threads: threads), threads) : "")
)
let results: [StepResult] = steps.indices.map { i in
    let d = i == 0 ? (relative: 0.0, ofLimit: 0.0) : distance(outputs[i].tensor, reference, tolerance)
    return StepResult(
        label: steps[i].label, tic: steps[i].tic, threads: steps[i].threads,
        peak: peak(steps[i].path, threads: steps[i].threads),
        seconds: times[i].seconds, calls: times[i].calls, relative: d.relative, ofLimit: d.ofLimit)
}
print(
    "median of \(rounds) rounds; a sample is `calls` back-to-back calls; % of peak: of the peak at the rung's thread count"
)
print(
    "rung                      thr   median ms   calls    GFLOP/s   % of peak   × naive   max |Δ|/rms(C)  % of limit"
)
for (i, r) in results.enumerated() {
    let gflops = flops / r.seconds / 1e9
    let speedup = i == 0 ? "-" : String(format: "%.1f", results[1].seconds / r.seconds)
    let error = i == 0 ? "(the yardstick)" : String(format: "%.1e", r.relative)
    let limit = i == 0 ? "" : String(format: "%.1f%%", 100 * r.ofLimit)
    print(
        pad(r.label, 25) + rpad("\(r.threads)", 4) + rpad(String(format: "%.3f", r.seconds * 1e3), 12)
            + rpad("\(r.calls)", 8)
            + rpad(String(format: "%.2f", gflops), 11)
            + rpad(String(format: "%.1f%%", 100 * gflops / r.peak), 12)
            + rpad(speedup, 10) + rpad(error, 17) + rpad(limit, 12))
}
if !SIMDPath.cpuHasAVX512 {
    print(
        "8b shipped, avx512: skipped · CPUID reports no AVX-512 F/BW/DQ/VL on this CPU, so its 512-bit build cannot run here"
    )
}

// MARK: 4 · A ragged shape: every edge path runs
// At 512³ every dimension is a multiple of every tile, vector and block above, so the timed run
// never reaches an edge. At 61 × 263 × 397 nothing is: 61 = 10·6 + 1 rows (a one-row tile), K = 263 spans two K blocks
// of 128 and 256 with a ragged last one, N = 397 spans two column blocks and ends 13 columns into
// a 16-wide tile and 5 into an 8-lane vector. The same check, no timing.
lesson.section("4 · A ragged shape: 61×263×397, every edge path runs")
let (rm, rk, rn) = (61, 263, 397)
let ra = lesson.rng.uniformTensor([rm, rk]), rb = lesson.rng.uniformTensor([rk, rn])
var raggedReference = Tensor(shape: [rm, rn])
ReferenceKernels.matmul(ra, rb, layout: .nn, bias: nil, accumulate: false, into: &raggedReference)
let raggedTolerance = Tolerance.reduction(count: rk, rms: termRMS)
var raggedWorst = 0.0
for step in steps.dropFirst() {
    var c = Tensor(shape: [rm, rn], repeating: .nan)
    step.run(ra, rb, &c)
    let d = distance(c, raggedReference, raggedTolerance)
    raggedWorst = max(raggedWorst, d.ofLimit)
    print(
        pad(step.label, 25)
            + String(format: "max |Δ|/rms(C) %.1e   %5.1f%% of limit", d.relative, 100 * d.ofLimit))
}
let matmulWorst = max(raggedWorst, results.map(\.ofLimit).max()!)
lesson.claim(
    String(
        format:
            "every matmul rung agrees with the reference at %d³ and 61×263×397 (worst: %.1f%% of the limit)",
        size, 100 * matmulWorst), matmulWorst < 1)

// MARK: 5 · What the ladder says
// Claims about speed on a shared machine must survive a neighbour's compile job: only margins
// far larger than the run-to-run noise (20-30% here) are claimed, and none under --quick, whose
// products take microseconds.
lesson.section("5 · What the matmul ladder says")
let gflopsOf = results.map { flops / $0.seconds / 1e9 }
let shippedBest = zip(results, gflopsOf).filter { $0.0.label.hasPrefix("8") }.map(\.1).max()!
let ladderBest = zip(results, gflopsOf).filter { !$0.0.label.hasPrefix("8") }.map(\.1).max()!
let naiveGflops = gflopsOf[1]
print(
    String(
        format:
            "fastest hand-written rung %.1f GFLOP/s · shipped %.1f GFLOP/s (%.2f×) · shipped / naive i-j-k: %.0f×",
        ladderBest, shippedBest, shippedBest / ladderBest, shippedBest / naiveGflops))
if lesson.quick {
    print(
        "· not claimed under --quick: a \(size)³ product takes microseconds, too short to rank kernels on a shared machine"
    )
} else {
    lesson.claim(
        "the shipped matmul is the fastest rung, or within noise of it (≥ 0.7× the fastest hand-written rung)",
        shippedBest >= 0.7 * ladderBest)
    lesson.claim(
        "the shipped matmul is more than 10× faster than the naive i-j-k loop", shippedBest > 10 * naiveGflops
    )
}

// MARK: 6 · The softmax ladder
// Softmax does a handful of operations per element (a compare, a subtract, an exp, an add, a
// multiply) on data it reads once and writes once: it cannot be FMA-bound. Its two ceilings are
// the cost of exp and the cost of moving the bytes, so its speed is given in GB/s (8 bytes per
// element: 4 read, 4 written) and elements per ns, against a plain copy of the same matrix, the
// fastest anything that reads x and writes p can be.
//
// The tolerance. Each probability is exp((x - max)/τ) over a sum: the exp argument carries a
// rounding of up to u·|x/τ| (|x/τ| up to 2/τ = 50 here, logits uniform on [-1, 1]), exp itself a
// few ulp, the Float sum √K·u: `Tolerance.transcendental(sharpness: 2/τ, count: K)` allows
// (2/τ + 8 + 2√K)·4u relative (Sources/DINOCore/Tolerance.swift).
lesson.section("6 · The softmax ladder at \(softmaxRows)×\(softmaxCols), τ = \(tau)")
let x = lesson.rng.uniformTensor([softmaxRows, softmaxCols])
let softmaxTolerance = Tolerance.transcendental(sharpness: 2 / tau, count: softmaxCols)
var probabilities = Tensor(shape: x.shape)
ReferenceKernels.softmax(x, temperature: tau, into: &probabilities)
let bytes = 8 * Double(x.count)

/// The copy ceiling: x into p, split over `t` threads, nothing computed.
func copyRows(_ x: Tensor, _ p: inout Tensor, threads t: Int) {
    let count = x.count
    x.storage.withUnsafeBufferPointer { xp in
        p.storage.withUnsafeMutableBufferPointer { pp in
            let src = xp.baseAddress!, dst = pp.baseAddress!
            Threads.with(t) {
                Threads.parallelFor(t) { c in
                    let lo = count * c / t, hi = count * (c + 1) / t
                    (dst + lo).update(from: src + lo, count: hi - lo)
                }
            }
        }
    }
}
print(
    String(
        format:
            "x: %d×%d, uniform on [-1, 1] (cosine-like logits), %.1f MB read and %.1f MB written per call",
        softmaxRows, softmaxCols, Double(x.count * 4) / 1e6, Double(x.count * 4) / 1e6))
print(
    String(
        format: "tolerance %@ (sharpness 2/τ = %.0f, K = %d)", softmaxTolerance.description, Double(2 / tau),
        softmaxCols))

struct SoftmaxStep {
    let label: String, tic: String, threads: Int
    let run: (Tensor, inout Tensor) -> Void
}
func shippedSoftmax(threads t: Int) -> (Tensor, inout Tensor) -> Void {
    { x, p in Threads.with(t) { SIMDPath.with(.avx2) { SIMDKernels.softmax(x, temperature: tau, into: &p) } }
    }
}
var softmaxSteps: [SoftmaxStep] = [
    SoftmaxStep(label: "0 reference (Double)", tic: "0 reference\\n(Double)", threads: 1) { x, p in
        ReferenceKernels.softmax(x, temperature: tau, into: &p)
    },
    SoftmaxStep(label: "1 naive, libm exp", tic: "1 naive\\nlibm exp", threads: 1) {
        callSoftmax(softmaxNaive, $0, &$1, tau)
    },
    SoftmaxStep(label: "2 fused, no division", tic: "2 fused\\nno division", threads: 1) {
        callSoftmax(softmaxFused, $0, &$1, tau)
    },
    SoftmaxStep(label: "3 SIMD8 + exp8", tic: "3 SIMD8\\n+ exp8", threads: 1) {
        callSoftmax(softmaxSIMD, $0, &$1, tau)
    },
    SoftmaxStep(
        label: "4 shipped, 1 thread", tic: "4 shipped\\n1 thread", threads: 1, run: shippedSoftmax(threads: 1)
    ),
]
if threads > 1 {
    softmaxSteps.append(
        SoftmaxStep(
            label: "4 shipped, \(allThreads)", tic: "4 shipped\\n\(allThreads)", threads: threads,
            run: shippedSoftmax(threads: threads)))
}
/// Largest |Δ| (probabilities are at most 1, so absolute is the natural scale) and % of the limit.
func softmaxDistance(
    _ p: Tensor, _ reference: Tensor, _ tolerance: Tolerance
) -> (absolute: Double, ofLimit: Double) {
    var worst = 0.0, fraction = 0.0
    for (q, r) in zip(p.storage, reference.storage) {
        let d = Double(abs(q - r))
        if !(d <= 1) { return (.infinity, .infinity) }
        worst = max(worst, d)
        fraction = max(fraction, d / Double(tolerance.limit(r)))
    }
    return (worst, fraction)
}
// The two copies are timed with the rungs, in the same rounds, so the ceiling and the rungs see
// the same machine.
let copyOutput = Output(Tensor(shape: x.shape))
let softmaxOutputs = softmaxSteps.map { _ in Output(Tensor(shape: x.shape, repeating: .nan)) }
let softmaxTimes = timeSideBySide(
    zip(softmaxSteps, softmaxOutputs).map { step, out in { step.run(x, &out.tensor) } }
        + [
            { copyRows(x, &copyOutput.tensor, threads: 1) },
            { copyRows(x, &copyOutput.tensor, threads: threads) },
        ],
    rounds: rounds, sample: sampleSeconds)
let copyOne = bytes / softmaxTimes[softmaxSteps.count].seconds / 1e9
let copyAll = bytes / softmaxTimes[softmaxSteps.count + 1].seconds / 1e9
print(
    String(format: "copy x → p: %.1f GB/s on 1 thread", copyOne)
        + (threads > 1 ? String(format: ", %.1f GB/s on %d threads", copyAll, threads) : "")
        + " (the memory ceiling)")
let softmaxResults: [StepResult] = softmaxSteps.indices.map { i in
    let d =
        i == 0
        ? (absolute: 0.0, ofLimit: 0.0)
        : softmaxDistance(softmaxOutputs[i].tensor, probabilities, softmaxTolerance)
    return StepResult(
        label: softmaxSteps[i].label, tic: softmaxSteps[i].tic, threads: softmaxSteps[i].threads,
        peak: softmaxSteps[i].threads == 1 ? copyOne : copyAll, seconds: softmaxTimes[i].seconds,
        calls: softmaxTimes[i].calls, relative: d.absolute, ofLimit: d.ofLimit)
}
print(
    "rung                      thr   median ms   calls   elements/ns     GB/s   % of copy   × naive   max |Δ|   % of limit"
)
for (i, r) in softmaxResults.enumerated() {
    let rate = bytes / r.seconds / 1e9
    let speedup = i == 0 ? "-" : String(format: "%.1f", softmaxResults[1].seconds / r.seconds)
    let error = i == 0 ? "" : String(format: "%.1e", r.relative)
    let limit = i == 0 ? "" : String(format: "%.1f%%", 100 * r.ofLimit)
    print(
        pad(r.label, 25) + rpad("\(r.threads)", 4) + rpad(String(format: "%.3f", r.seconds * 1e3), 12)
            + rpad("\(r.calls)", 8)
            + rpad(String(format: "%.3f", rate / 8), 14) + rpad(String(format: "%.2f", rate), 9)
            + rpad(String(format: "%.1f%%", 100 * rate / r.peak), 12) + rpad(speedup, 10) + rpad(error, 10)
            + rpad(limit, 13))
}

// The ragged case: 1029 = 128·8 + 5 columns, so every rung's tail runs; rows with logits / τ up
// to 125 (spread 5), where only the max-shift keeps exp finite.
let rx = lesson.rng.uniformTensor([37, 1029], -5, 5)
var raggedP = Tensor(shape: rx.shape)
ReferenceKernels.softmax(rx, temperature: tau, into: &raggedP)
let raggedSoftmaxTolerance = Tolerance.transcendental(sharpness: 10 / tau, count: 1029)
var softmaxRagged = 0.0
print("37×1029, logits/τ up to \(Int(5 / tau)):")
for step in softmaxSteps.dropFirst() {
    var p = Tensor(shape: rx.shape, repeating: .nan)
    step.run(rx, &p)
    let d = softmaxDistance(p, raggedP, raggedSoftmaxTolerance)
    softmaxRagged = max(softmaxRagged, d.ofLimit)
    print(
        pad(step.label, 25) + String(format: "max |Δ| %.1e   %5.1f%% of limit", d.absolute, 100 * d.ofLimit))
}
let softmaxWorst = max(softmaxRagged, softmaxResults.map(\.ofLimit).max()!)
lesson.claim(
    String(
        format:
            "every softmax rung agrees with the reference at %d×%d and 37×1029 (worst: %.1f%% of the limit)",
        softmaxRows, softmaxCols, 100 * softmaxWorst), softmaxWorst < 1)
let softmaxRates = softmaxResults.map { bytes / $0.seconds / 1e9 }
let softmaxShipped = zip(softmaxResults, softmaxRates).filter { $0.0.label.hasPrefix("4") }.map(\.1).max()!
let softmaxLadder = zip(softmaxResults, softmaxRates).filter { !$0.0.label.hasPrefix("4") }.map(\.1).max()!
print(
    String(
        format: "fastest hand-written rung %.2f GB/s · shipped %.2f GB/s (%.2f×) · shipped / naive: %.1f×",
        softmaxLadder, softmaxShipped, softmaxShipped / softmaxLadder, softmaxShipped / softmaxRates[1]))
if lesson.quick {
    print(
        "· not claimed under --quick: \(softmaxRows)×\(softmaxCols) takes tens of microseconds, too short to rank kernels"
    )
} else {
    lesson.claim(
        "the shipped softmax is the fastest rung, or within noise of it (≥ 0.7× the fastest hand-written rung)",
        softmaxShipped >= 0.7 * softmaxLadder)
    lesson.claim(
        "the shipped softmax is more than 3× faster than the naive one", softmaxShipped > 3 * softmaxRates[1])
}

// MARK: 7 · Charts
// Bars from zero, one per rung, coloured by thread count; the dashed lines are the ceilings
// timed with the rungs (sections 3 and 6), drawn across the whole chart.
lesson.section("7 · Charts")
func ladderChart(
    _ name: String, _ rows: [StepResult], values: [Double], roofs: (one: Double, all: Double),
    roofName: String, title: String, y: String, digits: Int
) {
    var data = Series(columns: ["rung", "value", "threads", "ceiling_1_thread", "ceiling_\(threads)_threads"])
    data.newBlock("bars: one per rung")
    for (i, (r, v)) in zip(rows, values).enumerated() {
        data.append([Double(i), v, Double(r.threads), roofs.one, roofs.all])
    }
    data.newBlock("the ceilings, across the chart")
    for xEnd in [-0.6, Double(rows.count) - 0.4] { data.append([xEnd, .nan, .nan, roofs.one, roofs.all]) }
    let tics = rows.enumerated().map { "\"\($0.element.tic)\" \($0.offset)" }.joined(separator: ", ")
    var curves: [ChartSpec.Curve] = [
        .init(using: "1:($3==1?$2:1/0)", title: "1 thread", style: "boxes lc rgb \"#4477aa\"", block: 0),
        .init(using: "1:($3>1?$2:1/0)", title: allThreads, style: "boxes lc rgb \"#cc6677\"", block: 0),
        .init(
            using: "1:4", title: String(format: "\(roofName), 1 thread: %.1f", roofs.one),
            style: "lines dt 2 lw 2 lc rgb \"#4477aa\"", block: 1),
        .init(
            using: "1:5", title: String(format: "\(roofName), \(allThreads): %.1f", roofs.all),
            style: "lines dt 2 lw 2 lc rgb \"#cc6677\"", block: 1),
        // Last, so the values sit on top of the lines (opaque boxes).
        .init(
            using: "1:2:(sprintf(\"%.\(digits)f\", $2))", title: "",
            style: "labels boxed offset 0,0.8 font \",9\"", block: 0),
    ]
    if threads == 1 { curves.remove(at: 3); curves.remove(at: 1) }  // one thread count: one colour, one line
    var chart = ChartSpec(
        title: title, x: "", y: y, curves: curves,
        extra: [
            "set style fill solid 0.85 border -1", "set boxwidth 0.7",
            "set xtics (\(tics)) font \",9\"", "set xrange [-0.6:\(Double(rows.count) - 0.4)]",
            "set yrange [0:\(max(roofs.one, roofs.all, values.max()!) * 1.3)]", "set grid noxtics ytics",
            "set key inside top center horizontal", "set bmargin 4", "set style textbox opaque noborder",
        ])
    chart.size = (width: 1100, height: 580)
    plotOrExit(name, data, chart)
}
ladderChart(
    "matmul-ladder", results, values: gflopsOf, roofs: (peakOne, peakAll), roofName: "FMA peak",
    title: "Matmul ladder: C = A·B at \(size)³, GFLOP/s = 2·N³ / median time (\(cpuModel), 8-float vectors)",
    y: "GFLOP/s", digits: 1)
ladderChart(
    "softmax-ladder", softmaxResults, values: softmaxRates, roofs: (copyOne, copyAll),
    roofName: "copy x to p",
    title:
        "Softmax ladder: \(softmaxRows)×\(softmaxCols), τ = \(tau), GB/s = 8 bytes per element / median time (\(cpuModel))",
    y: "GB/s (4 bytes read + 4 written per element)", digits: 2)
lesson.finish()

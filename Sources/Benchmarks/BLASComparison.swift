import DINOCore
import DINOPlot
import Foundation
import KernelCheck
import SIMDCore

/// `dino bench blas`: the SIMD core's matmul against an OpenBLAS loaded at run time, side by side.
///
/// This machine is shared and its speed drifts by 20% from minute to minute, so two benchmarks run
/// minutes apart cannot give a ratio worth quoting. Here both libraries run in one process on the
/// same inputs, alternating sample by sample, and the ratio is taken per case from the two
/// medians (with `--rounds`, the median of the rounds' ratios). OpenBLAS is only a yardstick: it is opened with `dlopen` from a path the user gives
/// (numpy ships one), never linked, and the SIMD core does not know it exists.
public struct BLASComparison {
    /// Path of an OpenBLAS shared library (cblas_sgemm, 32- or 64-bit integers).
    public var library: String
    /// Thread counts (comma separated, e.g. 1,2), used by both libraries.
    public var threads: String
    /// Only cases whose layout or shape contains this text (e.g. tn, 4160).
    public var only: String?
    /// Timed samples per library and case (median reported).
    public var runs: Int
    /// Passes over the whole suite; each case's ratio is the median of its passes.
    public var rounds: Int
    /// Print one JSON object per line instead of the table.
    public var json: Bool
    /// Keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE from the environment (by default they are unset before loading).
    public var keepOpenBLASEnvironment: Bool
    /// Folder for the chart (blas.dat/.gp/.png).
    public var plots: String
    public init(
        library: String, threads: String = "1,2", only: String?, runs: Int = 15, rounds: Int = 1,
        json: Bool = false, keepOpenBLASEnvironment: Bool = false, plots: String = "plots/bench"
    ) {
        self.library = library
        self.threads = threads
        self.only = only
        self.runs = runs
        self.rounds = rounds
        self.json = json
        self.keepOpenBLASEnvironment = keepOpenBLASEnvironment
        self.plots = plots
    }

    public func run() throws {
        let threadCounts = try threadList(threads)
        guard runs >= 3 else { throw BenchmarkError.usage("--runs must be at least 3") }
        guard rounds >= 1 else { throw BenchmarkError.usage("--rounds must be at least 1") }
        let log: (String) -> Void = { line in
            if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
        }
        if !isOptimizedBuild {
            log("warning: this is a debug build; use swift run -c release for meaningful numbers")
        }
        // OpenBLAS reads these once, when it loads: unset here, it picks the kernel for this CPU.
        let variables = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]
        let forcing = variables.compactMap { name in
            ProcessInfo.processInfo.environment[name].map { "\(name)=\($0)" }
        }
        if !keepOpenBLASEnvironment { variables.forEach { unsetenv($0) } }
        let blas = try OpenBLAS(path: library)
        log("OpenBLAS: \(blas.description); CPU: \(cpuModel); SIMD path: \(SIMDPath.current.rawValue)")
        if keepOpenBLASEnvironment {
            log(
                "OpenBLAS kernel forced by the environment (\(forcing.joined(separator: ", "))): not its own choice for this CPU"
            )
        } else {
            log(
                "OpenBLAS chose its kernel for this CPU"
                    + (forcing.isEmpty ? "" : " (unset before loading: \(forcing.joined(separator: ", ")))"))
        }

        let cases = BLASCase.suite.filter { c in
            only.map { c.layout.rawValue == $0 || c.shape.contains($0) } ?? true
        }
        guard !cases.isEmpty else { throw BenchmarkError.usage("no case matches '\(only!)'") }
        let header =
            "case                     shape            thr    SIMD ms    BLAS ms  SIMD GF/s  BLAS GF/s   SIMD/BLAS"
        if !json { print(rounds > 1 ? "round " + header : header) }
        // Even interleaved, one pass's ratio for a case moves by ±5% with the machine's load; the
        // passes of --rounds are minutes apart, so their median is the number to quote.
        var passes: [[BLASResult]] = []
        for round in 1...rounds {
            var pass: [BLASResult] = []
            for c in cases {
                for t in threadCounts {
                    let r = try c.run(blas: blas, threads: t, runs: runs)
                    pass.append(r)
                    if !json { print((rounds > 1 ? String(format: "%5d ", round) : "") + r.row) }
                    fflush(stdout)
                }
            }
            passes.append(pass)
        }
        let results = passes[0].indices.map { i in BLASResult(combining: passes.map { $0[i] }) }
        if rounds > 1 && !json {
            print("\nmedian of \(rounds) rounds (ratio range in brackets)")
            print(header)
        }
        for r in results where json || rounds > 1 {
            if json {
                print(r.json)
            } else {
                print(r.row + String(format: "  [%.2f-%.2f]", r.ratioMin, r.ratioMax))
            }
        }
        for t in threadCounts {
            let vit = results.filter { $0.threads == t && $0.kind != "square" }.map(\.ratio).sorted()
            let all = results.filter { $0.threads == t }.map(\.ratio).sorted()
            guard !all.isEmpty else { continue }
            var line = String(
                format: "%d thread%@: SIMD/BLAS over all %d cases: min %.2fx, median %.2fx",
                t, t == 1 ? "" : "s", all.count, all.first!, Stats.median(all))
            if !vit.isEmpty {
                line += String(
                    format: "; ViT-step shapes (%d): min %.2fx, median %.2fx", vit.count, vit.first!,
                    Stats.median(vit))
            }
            log(line)
        }
        try chart(results, threadCounts: threadCounts, blas: blas, log: log)
    }

    /// One panel: SIMD/BLAS GFLOP/s ratio per case, one bar per thread count, with the issue's
    /// targets (0.9 on one thread, 0.85 on two) as lines.
    private func chart(
        _ results: [BLASResult], threadCounts: [Int], blas: OpenBLAS, log: (String) -> Void
    ) throws {
        var keys: [String] = []
        for r in results where !keys.contains(r.key) { keys.append(r.key) }
        var series = Series(
            columns: ["index"]
                + threadCounts.flatMap {
                    [
                        "ratio_\($0)t", "simd_gflops_\($0)t", "blas_gflops_\($0)t", "ratio_min_\($0)t",
                        "ratio_max_\($0)t",
                    ]
                })
        for (i, key) in keys.enumerated() {
            var row = [Double(i)]
            for t in threadCounts {
                let r = results.first { $0.key == key && $0.threads == t }
                row += [
                    r?.ratio ?? .nan, r?.simdGflops ?? .nan, r?.blasGflops ?? .nan, r?.ratioMin ?? .nan,
                    r?.ratioMax ?? .nan,
                ]
            }
            series.append(row)
        }
        let xtics = keys.enumerated().map { "\"\($0.element)\" \($0.offset)" }.joined(separator: ", ")
        let width = 0.8 / Double(threadCounts.count)
        let colors = ["#3060a0", "#d08020", "#40a040", "#a04040"]
        var gp =
            "# written by dino bench blas --threads \(threads) (median of \(runs) interleaved samples\(rounds > 1 ? ", \(rounds) rounds" : "")) on \(cpuModel)\n"
        gp += "# edit and re-run: gnuplot blas.gp (from this folder)\n"
        gp += "set terminal pngcairo size 1500,700 noenhanced font \"Sans,10\"\nset output \"blas.png\"\n"
        gp +=
            "set title \"SIMD core matmul / \(blas.description), same process, interleaved (\(cpuModel))\"\n"
        gp += "set grid ytics\nset style fill solid 0.7\nset key top right\nset bmargin 10\n"
        gp +=
            "set xtics rotate by 50 right font \",8\" (\(xtics))\nset xrange [-1:\(keys.count)]\nset boxwidth \(width)\n"
        gp += "set ylabel \"GFLOP/s ratio SIMD / OpenBLAS\"\nset yrange [0:1.6]\n"
        gp += "set arrow from -1,0.9 to \(keys.count),0.9 nohead dt 2 lc rgb \"#3060a0\"\n"
        gp += "set arrow from -1,0.85 to \(keys.count),0.85 nohead dt 3 lc rgb \"#d08020\"\n"
        gp += "set label \"targets: 0.9 (1 thread), 0.85 (2 threads)\" at -0.5,1.52 left\n"
        gp +=
            "plot "
            + threadCounts.enumerated().map { i, t in
                let x = "($1+\(Double(i) * width - 0.4 + width / 2))"
                var p =
                    "\"blas.dat\" using \(x):\(2 + 5 * i) with boxes lc rgb \"\(colors[i % colors.count])\" title \"\(t) thread\(t == 1 ? "" : "s")\""
                if rounds > 1 {
                    p +=
                        ", \"blas.dat\" using \(x):\(2 + 5 * i):\(5 + 5 * i):\(6 + 5 * i) with yerrorbars lc rgb \"#202020\" pt 0 notitle"
                }
                return p
            }.joined(separator: ", ") + "\n"
        let header = [
            "written by dino bench blas --threads \(threads) (median of \(runs) interleaved samples, \(rounds) round(s); bars: median ratio, whiskers: range over rounds)",
            "CPU: \(cpuModel); BLAS: \(blas.description)",
        ]
        let result = try Gnuplot.write("blas", in: plots, dat: series.text(header: header), script: gp)
        log(result.description)
    }
}

/// One matmul of the comparison: the layouts and shapes of `dino bench kernels`.
struct BLASCase {
    let layout: MatmulLayout
    let m: Int, k: Int, n: Int
    /// "forward", "input grad", "weight grad" or "square".
    let kind: String
    var shape: String { "\(m)x\(k)x\(n)" }

    static let suite: [BLASCase] = {
        var cases: [BLASCase] = []
        for (d, out) in [(192, 576), (192, 768), (768, 192), (64, 192), (64, 256), (256, 64)] {
            cases.append(BLASCase(layout: .nt, m: 4160, k: d, n: out, kind: "forward"))
            cases.append(BLASCase(layout: .nn, m: 4160, k: out, n: d, kind: "input grad"))
            cases.append(BLASCase(layout: .tn, m: out, k: 4160, n: d, kind: "weight grad"))
        }
        for s in [64, 128, 256, 512, 1024] {
            for layout in MatmulLayout.allCases {
                cases.append(BLASCase(layout: layout, m: s, k: s, n: s, kind: "square"))
            }
        }
        return cases
    }()

    /// Times both libraries on the same inputs, alternating sample by sample (each sample after
    /// one untimed call, so neither pays for the other's cache state): the machine's drift then
    /// hits both alike. A sample repeats the call enough times to last about 2 ms, so the 64³
    /// cases are not timer noise.
    func run(blas: OpenBLAS, threads: Int, runs: Int) throws -> BLASResult {
        var rng = SplitMix64(seed: 7)
        let a = rng.uniformTensor(layout == .tn ? [k, m] : [m, k])
        let b = rng.uniformTensor(layout == .nt ? [n, k] : [k, n])
        var ours = Tensor(shape: [m, n])
        var theirs = Tensor(shape: [m, n])
        let saved = Threads.count
        Threads.count = threads
        defer { Threads.count = saved }
        blas.setThreads(threads)

        let simd = { SIMDKernels.matmul(a, b, layout: layout, bias: nil, accumulate: false, into: &ours) }
        let reference = { blas.sgemm(a, b, layout: layout, m: m, k: k, n: n, into: &theirs) }
        simd(); reference()
        // Both must compute the same product before either is timed.
        var worst: Float = 0
        for i in 0..<ours.count {
            worst = max(worst, abs(ours.storage[i] - theirs.storage[i]) / (1 + abs(theirs.storage[i])))
        }
        // Inputs are uniform in [-1, 1): K products of size ≤ 1 in Float32 differ by ≲ K·2⁻²⁴ between
        // two summation orders; 4·K·2⁻²⁴ leaves room for FMA versus separate rounding.
        let bound = 4 * Float(k) * Float.ulpOfOne / 2
        guard worst <= bound else {
            throw BenchmarkError.usage(
                "SIMD core and OpenBLAS disagree on \(layout) \(shape): max error \(worst) > \(bound)")
        }

        let once = measure(warmup: 2, runs: 3, simd).min()!
        let reps = max(1, Int((2.0 / max(once, 1e-4)).rounded(.up)))
        func sample(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<reps { body() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(reps)
        }
        var simdMs: [Double] = [], blasMs: [Double] = []
        for _ in 0..<runs {
            simd()
            simdMs.append(sample(simd))
            reference()
            blasMs.append(sample(reference))
        }
        BlackHole.consume(ours.storage[0] + theirs.storage[0])
        let flops = 2 * Double(m) * Double(k) * Double(n)
        return BLASResult(
            layout: layout, shape: shape, kind: kind, threads: threads, reps: reps,
            simdMs: Stats.median(simdMs), blasMs: Stats.median(blasMs), flops: flops, maxError: worst)
    }
}

struct BLASResult {
    init(
        layout: MatmulLayout, shape: String, kind: String, threads: Int, reps: Int, simdMs: Double,
        blasMs: Double,
        flops: Double, maxError: Float
    ) {
        (self.layout, self.shape, self.kind, self.threads, self.reps) = (layout, shape, kind, threads, reps)
        (self.simdMs, self.blasMs, self.flops, self.maxError) = (simdMs, blasMs, flops, maxError)
    }

    /// One case over several rounds: median times, and the median of the per-round ratios.
    init(combining rounds: [BLASResult]) {
        let first = rounds[0]
        self.init(
            layout: first.layout, shape: first.shape, kind: first.kind, threads: first.threads,
            reps: first.reps,
            simdMs: Stats.median(rounds.map(\.simdMs)), blasMs: Stats.median(rounds.map(\.blasMs)),
            flops: first.flops, maxError: rounds.map(\.maxError).max()!)
        ratios = rounds.map { $0.blasMs / $0.simdMs }
    }

    let layout: MatmulLayout
    let shape: String
    let kind: String
    let threads: Int
    let reps: Int
    let simdMs: Double
    let blasMs: Double
    let flops: Double
    let maxError: Float
    /// The per-round ratios (one unless `--rounds`).
    var ratios: [Double] = []
    var simdGflops: Double { flops / (simdMs * 1e6) }
    var blasGflops: Double { flops / (blasMs * 1e6) }
    /// GFLOP/s of the SIMD core over OpenBLAS's (> 1: ours is faster): the median of the rounds'
    /// ratios, or this round's.
    var ratio: Double { ratios.isEmpty ? blasMs / simdMs : Stats.median(ratios) }
    var ratioMin: Double { ratios.min() ?? ratio }
    var ratioMax: Double { ratios.max() ?? ratio }
    var key: String { "\(layout.rawValue) \(shape)" }

    var row: String {
        let name = "matmul \(layout.rawValue) \(kind)"
        return name.padding(toLength: 24, withPad: " ", startingAt: 0) + " "
            + shape.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(
                format: "%3d %10.3f %10.3f %10.1f %10.1f %10.2fx", threads, simdMs, blasMs, simdGflops,
                blasGflops, ratio)
    }

    var json: String {
        struct Line: Encodable {
            var op: String, kind: String, shape: String, threads: Int
            var simd_ms: Double, blas_ms: Double, simd_gflops: Double, blas_gflops: Double
            var ratio: Double, ratio_min: Double, ratio_max: Double, rounds: Int, max_error: Double
        }
        return jsonLine(
            Line(
                op: "matmul \(layout.rawValue)", kind: kind, shape: shape, threads: threads, simd_ms: simdMs,
                blas_ms: blasMs, simd_gflops: simdGflops, blas_gflops: blasGflops, ratio: ratio,
                ratio_min: ratioMin, ratio_max: ratioMax, rounds: max(1, ratios.count),
                max_error: Double(maxError)))
    }
}

/// An OpenBLAS opened at run time. Builds differ in symbol names (numpy's wheels prefix `scipy_`
/// and use 64-bit integers, marked by a `64_` suffix); the first name found wins.
final class OpenBLAS {
    private typealias Sgemm32 =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float,
            UnsafePointer<Float>, Int32, UnsafePointer<Float>, Int32, Float, UnsafeMutablePointer<Float>,
            Int32
        ) -> Void
    private typealias Sgemm64 =
        @convention(c) (
            Int32, Int32, Int32, Int64, Int64, Int64, Float,
            UnsafePointer<Float>, Int64, UnsafePointer<Float>, Int64, Float, UnsafeMutablePointer<Float>,
            Int64
        ) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias GetString = @convention(c) () -> UnsafePointer<CChar>?

    private let handle: UnsafeMutableRawPointer
    private var sgemm32: Sgemm32?
    private var sgemm64: Sgemm64?
    private let setNumThreads: SetThreads?
    let description: String

    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BenchmarkError.usage("--library \(path): no such file")
        }
        // OpenBLAS's idle workers spin for 2^28 cycles (~0.1 s) before they sleep, on the core the
        // SIMD core's next sample needs; 2^4 makes them sleep at once (read when the library loads).
        if ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil {
            setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
        }
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw BenchmarkError.usage("--library \(path): cannot load it: \(String(cString: dlerror()))")
        }
        handle = h
        func symbol(_ names: [String]) -> (String, UnsafeMutableRawPointer)? {
            for name in names { if let p = dlsym(h, name) { return (name, p) } }
            return nil
        }
        if let (_, p) = symbol(["cblas_sgemm64_", "scipy_cblas_sgemm64_"]) {
            sgemm64 = unsafeBitCast(p, to: Sgemm64.self)
        } else if let (_, p) = symbol(["cblas_sgemm", "scipy_cblas_sgemm"]) {
            sgemm32 = unsafeBitCast(p, to: Sgemm32.self)
        } else {
            throw BenchmarkError.usage("--library \(path): no cblas_sgemm symbol in it (is it a BLAS?)")
        }
        setNumThreads = symbol([
            "openblas_set_num_threads64_", "scipy_openblas_set_num_threads64_",
            "openblas_set_num_threads", "scipy_openblas_set_num_threads",
        ])
        .map { unsafeBitCast($0.1, to: SetThreads.self) }
        let core = symbol([
            "openblas_get_corename64_", "scipy_openblas_get_corename64_",
            "openblas_get_corename", "scipy_openblas_get_corename",
        ])
        .flatMap { unsafeBitCast($0.1, to: GetString.self)() }.map { String(cString: $0) }
        let config = symbol([
            "openblas_get_config64_", "scipy_openblas_get_config64_",
            "openblas_get_config", "scipy_openblas_get_config",
        ])
        .flatMap { unsafeBitCast($0.1, to: GetString.self)() }.map { String(cString: $0) }
        let version =
            config?.split(separator: " ").prefix(2).joined(separator: " ")
            ?? URL(fileURLWithPath: path).lastPathComponent
        description = version + (core.map { ", \($0) kernel" } ?? "")
    }

    deinit { dlclose(handle) }

    func setThreads(_ n: Int) { setNumThreads?(Int32(n)) }

    /// `C = op(A)·op(B)` in the layouts of `MatmulLayout`, row-major (CblasRowMajor = 101,
    /// CblasNoTrans = 111, CblasTrans = 112).
    func sgemm(_ a: Tensor, _ b: Tensor, layout: MatmulLayout, m: Int, k: Int, n: Int, into c: inout Tensor) {
        let transA: Int32 = layout == .tn ? 112 : 111
        let transB: Int32 = layout == .nt ? 112 : 111
        let lda = layout == .tn ? m : k
        let ldb = layout == .nt ? k : n
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    if let f = sgemm64 {
                        f(
                            101, transA, transB, Int64(m), Int64(n), Int64(k), 1, pa.baseAddress!, Int64(lda),
                            pb.baseAddress!, Int64(ldb), 0, pc.baseAddress!, Int64(n))
                    } else if let f = sgemm32 {
                        f(
                            101, transA, transB, Int32(m), Int32(n), Int32(k), 1, pa.baseAddress!, Int32(lda),
                            pb.baseAddress!, Int32(ldb), 0, pc.baseAddress!, Int32(n))
                    }
                }
            }
        }
    }
}

import ArgumentParser
import DINOCore
import Foundation
import Benchmarks
import KernelCheck
import SIMDCore

/// `dino check`: every reference/SIMD pair of the parity registry, one line each.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the SIMD core with the reference core on every case of the parity registry.")

    @Argument(help: "Only cases whose operation or name contains this text (e.g. matmul, softmax).")
    var filter: String?

    @Option(name: .long, help: "Thread counts to check the SIMD core with (comma separated).")
    var threads: String = "1,2"

    @Option(name: .long, help: "Seed for the random inputs.")
    var seed: UInt64 = 137

    @Option(
        name: .long,
        help: ArgumentHelp(
            "SIMD paths to check (comma separated: avx2, avx512, avx512-on-avx2).",
            discussion: "Default: DINO_ISA's path if set, else every path this CPU supports."))
    var path: String?

    func run() throws {
        let threadCounts = try threadList(threads)
        let cases = ParityCase.all.filter {
            filter == nil || $0.op.contains(filter!) || $0.name.contains(filter!)
        }
        guard !cases.isEmpty else { throw ValidationError("no parity case matches '\(filter!)'") }
        let paths = try simdPaths(path)
        print(
            "CPU: \(cpuModel); AVX-512 F/BW/DQ/VL: \(SIMDPath.cpuHasAVX512 ? "yes" : "no"); "
                + "checking \(paths.map(\.rawValue).joined(separator: ", "))")
        if !SIMDPath.cpuHasAVX512 && path == nil && SIMDPath.requested == nil {
            print(
                "This CPU cannot run the avx512 path: its sources are checked as avx512-on-avx2 (the same 16-lane "
                    + "code and 8×32 GEMM tile compiled for AVX2); the zmm instructions themselves are not run here."
            )
        }
        var passed = 0, failed = 0
        for p in paths {
            for t in threadCounts {
                print("— SIMD core, path \(p), \(t) thread\(t == 1 ? "" : "s"), seed \(seed) —")
                for c in cases {
                    let report = SIMDPath.with(p) { compare(c, seed: seed, threads: t) }
                    print(report)
                    if report.passed { passed += 1 } else { failed += 1 }
                }
            }
        }
        print("\(passed) passed, \(failed) failed (paths: \(paths.map(\.rawValue).joined(separator: ", ")))")
        if failed > 0 { throw ExitCode.failure }
    }
}

/// `--path` of `dino check` and `dino verify`: the listed SIMD paths, each supported here; with no
/// list, `DINO_ISA`'s path if it is set, else every path the CPU supports.
func simdPaths(_ text: String?) throws -> [SIMDPath] {
    guard let text else {
        return SIMDPath.requested.map { [$0] } ?? SIMDPath.supported
    }
    return try text.split(separator: ",").map { word in
        guard let p = SIMDPath(rawValue: String(word).trimmingCharacters(in: .whitespaces).lowercased())
        else {
            throw ValidationError(
                "--path \(text): '\(word)' is not one of \(SIMDPath.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard SIMDPath.supported.contains(p) else {
            throw ValidationError("--path \(text): this CPU cannot run \(p.rawValue) (no AVX-512 F/BW/DQ/VL)")
        }
        return p
    }
}

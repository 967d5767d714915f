import ArgumentParser
import DINOCore
import Foundation
import KernelCheck

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

    func run() throws {
        let threadCounts = try threadList(threads)
        let cases = ParityCase.all.filter { filter == nil || $0.op.contains(filter!) || $0.name.contains(filter!) }
        guard !cases.isEmpty else { throw ValidationError("no parity case matches '\(filter!)'") }
        var passed = 0, failed = 0
        for t in threadCounts {
            print("— SIMD core with \(t) thread\(t == 1 ? "" : "s"), seed \(seed) —")
            for c in cases {
                let report = compare(c, seed: seed, threads: t)
                print(report)
                if report.passed { passed += 1 } else { failed += 1 }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode.failure }
    }
}

import ArgumentParser
import DINOCore
import DINOModel
import Foundation
import KernelCheck
import ReferenceCore
import SIMDCore

/// Which kernel core `dino verify` runs on.
enum VerifyKernels: String, ExpressibleByArgument, CaseIterable {
    case reference, simd
}

/// `dino verify DIR`: runs every case of a golden folder (format `dino-golden/1`) and prints the
/// README's report, one line per case and `N passed, M failed`; exits non-zero on any failure.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check the implementation against golden vectors computed by PyTorch from the official DINO code.",
        discussion: """
            DIR holds index.json (or ops/*.json and models/*.json) in the dino-golden/1 format, e.g. Tests/golden.
            Prints '<case> max_abs=… max_rel=… PASS|FAIL' per case and 'N passed, M failed'; why a case failed
            goes to standard error.
            """)

    @Argument(help: "The golden folder.")
    var directory: String

    @Option(name: .long, help: "Kernel core: reference or simd.")
    var kernels: VerifyKernels = .simd

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --kernels simd: the SIMD paths to run (comma separated: avx2, avx512, avx512-on-avx2).",
            discussion: "Default: DINO_ISA's path if set, else every path this CPU supports."))
    var path: String?

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        threads.apply()
        let paths: [String]
        do { paths = try GoldenRunner.casePaths(in: directory) } catch {
            throw ValidationError("\(error)")
        }
        let simdPaths: [SIMDPath?] = kernels == .reference ? [nil] : try dino.simdPaths(path)
        var passed = 0, failed = 0
        for simdPath in simdPaths {
            if let simdPath { print("— SIMD core, path \(simdPath) —") }
            for path in paths {
                let result =
                    switch simdPath {
                    case nil: GoldenRunner.run(ReferenceKernels.self, directory: directory, path: path)
                    case let p?:
                        SIMDPath.with(p) {
                            GoldenRunner.run(SIMDKernels.self, directory: directory, path: path)
                        }
                    }
                print(result)
                for problem in result.problems {
                    FileHandle.standardError.write(Data("  \(path): \(problem)\n".utf8))
                }
                if result.passed { passed += 1 } else { failed += 1 }
            }
        }
        print(
            "\(passed) passed, \(failed) failed"
                + (kernels == .simd
                    ? " (paths: \(simdPaths.compactMap { $0?.rawValue }.joined(separator: ", ")))" : ""))
        if failed > 0 { throw ExitCode.failure }
    }
}

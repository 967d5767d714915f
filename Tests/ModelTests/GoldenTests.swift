import DINOCore
import DINOModel
import Foundation
import ReferenceCore
import SIMDCore
import Testing

/// The shared golden folder, copied verbatim from the PyTorch generator into `Tests/golden`.
let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("golden").path

@Suite("golden vectors (PyTorch, official DINO code)")
struct GoldenTests {
    static let cases = (try? GoldenRunner.casePaths(in: goldenDirectory)) ?? []

    @Test func folderHasTheSharedCases() throws {
        #expect(try GoldenRunner.casePaths(in: goldenDirectory).count == 21)
    }

    @Test(arguments: cases) func referenceCore(_ path: String) {
        let r = GoldenRunner.run(ReferenceKernels.self, directory: goldenDirectory, path: path)
        #expect(r.passed, "\(r) \(r.problems.joined(separator: "; "))")
    }

    @Test(arguments: cases) func simdCore(_ path: String) {
        let r = GoldenRunner.run(SIMDKernels.self, directory: goldenDirectory, path: path)
        #expect(r.passed, "\(r) \(r.problems.joined(separator: "; "))")
    }
}

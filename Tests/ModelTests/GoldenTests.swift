import DINOCore
import DINOModel
import KernelCheck
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

    /// A golden file with inconsistent shapes or absurd sizes gets an error naming the case, never
    /// a trap: every input of every op case replaced in turn by tensors of the wrong shape, and
    /// every number parameter by 1e300, each run on the SIMD core (a trap would crash the suite).
    @Test func inconsistentCasesGiveErrorsNotTraps() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "golden-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("ops"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let ops = Self.cases.filter { $0.hasPrefix("ops/") }
        #expect(!ops.isEmpty)
        var variants = 0, refused = 0
        for path in ops {
            let original = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: goldenDirectory + "/" + path + ".json")))
            guard let json = original as? [String: Any] else { continue }
            var edits: [[String: Any]] = []
            for key in ((json["inputs"] as? [String: Any]) ?? [:]).keys.sorted() {
                for shape in [[2, 3], [1, 1, 1, 1, 1], [7]] {
                    var copy = json, inputs = json["inputs"] as! [String: Any]
                    inputs[key] = [
                        "shape": shape, "data": [Double](repeating: 0.5, count: shape.reduce(1, *)),
                    ]
                    copy["inputs"] = inputs
                    edits.append(copy)
                }
            }
            for (key, value) in (json["params"] as? [String: Any]) ?? [:]
            where value is NSNumber && !(value is Bool) {
                var copy = json, params = json["params"] as! [String: Any]
                params[key] = 1e300
                copy["params"] = params
                edits.append(copy)
            }
            for edit in edits {
                let file = folder.appendingPathComponent(path + ".json")
                try JSONSerialization.data(withJSONObject: edit).write(to: file)
                let r = GoldenRunner.run(SIMDKernels.self, directory: folder.path, path: path)
                variants += 1
                if !r.passed { refused += 1 }
            }
        }
        // Reaching this line is the point: no variant trapped. Nearly all fail (an error naming the
        // problem, or outputs that disagree with the expected values); the few that pass change
        // an input or number the case does not read.
        #expect(variants > 50 && refused * 10 >= variants * 9, "\(refused) of \(variants) variants refused")
    }
}

import Foundation
import Testing

/// Runs every lesson with `--quick` (charts into a temporary folder, so the committed full-run
/// charts are never overwritten) and checks its exit status, its claims and its charts.
@Suite("lessons --quick")
struct LessonSmokeTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Lesson folders that have a main.swift, e.g. "02-temperature".
    static let lessons: [String] = {
        let dir = repository.appendingPathComponent("Lessons").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)/main.swift") }.sorted()
    }()

    /// The folder holding the built executables (the same as this test bundle's).
    static let products: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("dino").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = products.appendingPathComponent(executable)
        process.arguments = arguments
        process.currentDirectoryURL = repository
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func everyLessonIsWired() {
        #expect(!Self.lessons.isEmpty)
        for lesson in Self.lessons {
            #expect(FileManager.default.isExecutableFile(atPath: Self.products.appendingPathComponent("lesson\(lesson)").path),
                    "lesson\(lesson) was not built next to the tests (\(Self.products.path))")
        }
    }

    @Test(arguments: lessons)
    func quickRunHoldsItsClaimsAndWritesCharts(_ lesson: String) throws {
        let plots = FileManager.default.temporaryDirectory.appendingPathComponent("dino-smoke-\(lesson)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: plots) }
        let (status, output) = try Self.run("lesson\(lesson)", ["--quick", "--plots", plots.path])
        #expect(status == 0, "lesson\(lesson) --quick exited \(status):\n\(output.suffix(3000))")
        #expect(!output.contains("✗"), "a claim failed:\n\(output.suffix(3000))")
        #expect(output.contains("✓"), "lesson\(lesson) made no claims")
        #expect(output.contains("wrote \(plots.path)/\(lesson)/"), "lesson\(lesson) wrote no chart:\n\(output.suffix(2000))")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: plots.path + "/" + lesson)) ?? []
        #expect(written.contains { $0.hasSuffix(".png") }, "no PNG in \(written)")
    }

    @Test func aLessonRejectsAnUnknownFlag() throws {
        guard let lesson = Self.lessons.first else { return }
        let (status, output) = try Self.run("lesson\(lesson)", ["--no-such-flag"])
        #expect(status == 2 && output.contains("unknown argument"), "\(output)")
    }

    @Test func dinoCheckPassesEveryCase() throws {
        let (status, output) = try Self.run("dino", ["check", "--threads", "1"])
        #expect(status == 0, "\(output.suffix(2000))")
        #expect(output.split(separator: "\n").last?.hasSuffix(" 0 failed") == true)
    }
}

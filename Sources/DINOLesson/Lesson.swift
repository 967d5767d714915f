import DINOCore
import DINOPlot
import Foundation
import SIMDCore

/// The notebook harness every lesson uses: a banner, `--quick`, a seeded generator, numbered
/// sections, printed values, claims that set the exit status, and charts under
/// `plots/<lesson>/`.
///
///     var lesson = Lesson("02-temperature", title: "Temperature softmax")
///     lesson.section("1 · Five logits, three temperatures")
///     lesson.claim("τ = 0.04 puts > 99% of the mass on the top logit", p[0, 0] > 0.99)
///     try lesson.plot("entropy-vs-tau", series, chart)
///     lesson.finish()
///
/// Flags every lesson understands: `--quick` (a seconds-long version for the smoke tests),
/// `--seed N`, `--threads N` (SIMD core), `--plots DIR` (where charts go, default `plots`).
public struct Lesson {
    public let name: String
    public let quick: Bool
    public let seed: UInt64
    public var rng: SplitMix64
    /// The folder this lesson's charts go into, `plots/<name>` by default.
    public let plotDirectory: String
    /// Flags the lesson itself reads (anything not understood by the harness).
    public let extraArguments: [String]
    public private(set) var claims: [(text: String, ok: Bool)] = []
    private let started = Date()

    /// Parses the command line, prints the banner and seeds the generator.
    public init(_ name: String, title: String, defaultSeed: UInt64 = 137, arguments: [String] = CommandLine.arguments,
                understands extraFlags: Set<String> = []) {
        if let problem = SIMDPath.environmentProblem { Lesson.usage(problem) }
        var quick = false, seed = defaultSeed, plots = "plots", extra: [String] = []
        var args = arguments.dropFirst().makeIterator()
        func value(_ flag: String) -> String {
            guard let v = args.next() else { Lesson.usage("\(flag) needs a value") }
            return v
        }
        while let arg = args.next() {
            switch arg {
            case "--quick": quick = true
            case "--seed":
                guard let s = UInt64(value(arg)) else { Lesson.usage("--seed needs a whole number") }
                seed = s
            case "--threads":
                guard let t = Int(value(arg)), t >= 1 else { Lesson.usage("--threads needs a whole number ≥ 1") }
                Threads.count = t
            case "--plots": plots = value(arg)
            case "-h", "--help":
                print("usage: \(name) [--quick] [--seed N] [--threads N] [--plots DIR] \(extraFlags.sorted().joined(separator: " "))")
                exit(0)
            default:
                let flag = arg.split(separator: "=").first.map(String.init) ?? arg
                guard extraFlags.contains(flag) else { Lesson.usage("unknown argument '\(arg)'") }
                extra.append(arg)
                if !arg.contains("="), let next = args.next() { extra.append(next) }
            }
        }
        self.name = name
        self.quick = quick
        self.seed = seed
        self.rng = SplitMix64(seed: seed)
        self.plotDirectory = plots + "/" + name
        self.extraArguments = extra
        let rule = String(repeating: "═", count: 78)
        print(rule)
        print("Lesson \(name) · \(title)\(quick ? " · quick run" : "")")
        print("seed \(seed) · SIMD threads \(Threads.count) · charts → \(plotDirectory)/")
        print(rule)
    }

    private static func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(2)
    }

    /// The value of `--flag VALUE` or `--flag=VALUE` among the lesson's extra arguments.
    public func option(_ flag: String) -> String? {
        for (i, a) in extraArguments.enumerated() {
            if a == flag, i + 1 < extraArguments.count { return extraArguments[i + 1] }
            if a.hasPrefix(flag + "=") { return String(a.dropFirst(flag.count + 1)) }
        }
        return nil
    }

    /// Prints a numbered section heading.
    public func section(_ title: String) {
        print("\n── \(title) " + String(repeating: "─", count: max(3, 74 - title.count)))
    }

    /// Prints a labelled tensor (up to `limit` values per row, `maxRows` rows).
    public func show(_ label: String, _ t: Tensor, digits: Int = 4, limit: Int = 10, maxRows: Int = 6) {
        print("\(label) \(t.shape):")
        for i in 0..<min(t.rows, maxRows) {
            let values = t.row(i).prefix(limit).map { format($0, digits: digits) }
            print("  [" + values.joined(separator: ", ") + (t.cols > limit ? ", …" : "") + "]")
        }
        if t.rows > maxRows { print("  … \(t.rows - maxRows) more rows") }
    }

    /// Prints `label = value`.
    public func show(_ label: String, _ value: Double, digits: Int = 6) {
        print("\(label) = \(String(format: "%.\(digits)g", value))")
    }

    /// Records and prints a claim: ✓ when it holds, ✗ otherwise (and the lesson will exit 1).
    public mutating func claim(_ text: String, _ ok: Bool) {
        claims.append((text, ok))
        print("\(ok ? "✓" : "✗") \(text)")
    }

    /// Writes a chart (`.dat`, `.gp`, `.png`) into the lesson's plot folder and prints where.
    /// A missing gnuplot is reported in one line and the lesson goes on.
    @discardableResult
    public func plot(_ chartName: String, _ data: Series, _ chart: ChartSpec) throws -> PlotResult {
        let header = ["written by lesson\(name) (seed \(seed)\(quick ? ", --quick" : ""))", chart.title]
        let result = try Gnuplot.plot(chartName, in: plotDirectory, data: data, chart: chart, header: header)
        print(result)
        return result
    }

    /// Prints the summary line and exits: status 0 if every claim held, 1 otherwise.
    public func finish() -> Never {
        let failed = claims.filter { !$0.ok }
        let seconds = Date().timeIntervalSince(started)
        print("\n" + String(repeating: "─", count: 78))
        print("lesson\(name): \(claims.count - failed.count) of \(claims.count) claims hold"
              + String(format: " · %.1f s", seconds))
        for f in failed { print("  ✗ \(f.text)") }
        exit(failed.isEmpty ? 0 : 1)
    }

    /// The repository's `Lessons/assets` folder (photographs), found from this source file's
    /// location at build time, or `$DINO_ASSETS`.
    public static var assetsDirectory: String {
        if let env = ProcessInfo.processInfo.environment["DINO_ASSETS"] { return env }
        return repositoryRoot + "/Lessons/assets"
    }

    /// `path` relative to the repository root when it lies inside it (what a lesson prints, so its
    /// output names files of the repository, not of the machine it ran on).
    public static func displayPath(_ path: String) -> String {
        path.hasPrefix(repositoryRoot + "/") ? String(path.dropFirst(repositoryRoot.count + 1)) : path
    }

    /// The repository root (three folders above this file).
    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}

/// Stops a lesson with a clear message on standard error (a bad flag, missing data, a failed
/// run) and exit status 1.
public func lessonFail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

/// Seconds as m:ss.
public func clockText(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
}

/// A number for printing: fixed for ordinary magnitudes, exponent form otherwise.
public func format(_ x: Float, digits: Int = 4) -> String {
    let a = abs(x)
    if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.\(digits - 1)e", Double(x)) }
    return String(format: "%.\(digits)f", Double(x))
}

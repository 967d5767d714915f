import DINOCore
import DINOPlot
import Foundation
import SIMDCore

/// A flag a lesson reads: its knobs (`--tau 0.1`), shown by `--help` and checked when read.
///
///     Knob("--tau", "T", "the teacher temperature", default: "0.04")
///
/// Every knob takes a value. A knob that only says where to keep things (`--run DIR`) is marked
/// `changesResults: false`; any other knob on the command line makes the run an experiment (below).
public struct Knob: Sendable {
    public let flag: String
    public let placeholder: String
    public let help: String
    public let defaultText: String?
    public let changesResults: Bool

    public init(
        _ flag: String, _ placeholder: String, _ help: String, default defaultText: String? = nil,
        changesResults: Bool = true
    ) {
        self.flag = flag
        self.placeholder = placeholder
        self.help = help
        self.defaultText = defaultText
        self.changesResults = changesResults
    }
}

/// The notebook harness every lesson uses: a banner, `--quick`, a seeded generator, numbered
/// sections, printed values, claims that set the exit status, and charts.
///
///     var lesson = Lesson("02-temperature", title: "Temperature softmax",
///                         knobs: [Knob("--tau", "T", "the sharp temperature", default: "0.04")])
///     let tau = lesson.double("--tau", default: 0.04, in: 0.001...10)
///     lesson.section("1 · Five logits, three temperatures")
///     lesson.claim("τ = 0.04 puts > 99% of the mass on the top logit", p[0, 0] > 0.99)
///     try lesson.plot("entropy-vs-tau", series, chart)
///     lesson.finish()
///
/// Flags every lesson understands: `--quick` (a seconds-long version for the smoke tests),
/// `--seed N`, `--threads N` (SIMD core), `--plots DIR`, plus the lesson's own knobs.
///
/// **Where the charts go.** Run as shipped (no flag that changes a result), a lesson writes
/// `plots/<lesson>/`, the charts its walkthrough embeds, which it reproduces. Any `--quick`,
/// `--seed` or knob makes the run an *experiment*, and its charts go to
/// `experiments/<lesson>/<flags>/` instead (for example `experiments/02-temperature/tau-0.1/`),
/// so trying something never replaces the committed charts. `--plots DIR` puts them in
/// `DIR/<lesson>/` whatever the flags: `--plots plots` is how to replace the committed ones.
public struct Lesson {
    public let name: String
    public let quick: Bool
    public let seed: UInt64
    public var rng: SplitMix64
    /// The folder this lesson's charts go into (see the type's documentation).
    public let plotDirectory: String
    /// True when a flag changed what the lesson computes (charts then go under `experiments/`).
    public let isExperiment: Bool
    /// The knobs given on the command line, flag → value, in the order given.
    public let knobValues: [(flag: String, value: String)]
    public private(set) var claims: [(text: String, ok: Bool)] = []
    private let started = Date()

    /// Parses the command line, prints the banner and seeds the generator.
    public init(
        _ name: String, title: String, defaultSeed: UInt64 = 137, arguments: [String] = CommandLine.arguments,
        knobs: [Knob] = []
    ) {
        if let problem = SIMDPath.environmentProblem { Lesson.usage(problem) }
        var quick = false, seed = defaultSeed, seedGiven = false, plots: String?
        var values: [(flag: String, value: String)] = []
        let known = Dictionary(knobs.map { ($0.flag, $0) }, uniquingKeysWith: { a, _ in a })
        var args = arguments.dropFirst().makeIterator()
        func value(_ flag: String) -> String {
            guard let v = args.next() else { Lesson.usage("\(flag) needs a value") }
            return v
        }
        while let arg = args.next() {
            // --flag=value is the same as --flag value.
            let parts = arg.split(separator: "=", maxSplits: 1).map(String.init)
            let flag = parts[0]
            func next() -> String { parts.count == 2 ? parts[1] : value(flag) }
            switch flag {
            case "--quick": quick = true
            case "--seed":
                let text = next()
                guard let s = UInt64(text) else {
                    Lesson.usage("--seed needs a whole number ≥ 0, got '\(text)'")
                }
                seed = s
                seedGiven = s != defaultSeed
            case "--threads":
                let text = next()
                guard let t = Int(text), t >= 1, t <= 256 else {
                    Lesson.usage("--threads needs a whole number from 1 to 256, got '\(text)'")
                }
                Threads.count = t
            case "--plots": plots = next()
            case "-h", "--help":
                Lesson.printHelp(name, title: title, defaultSeed: defaultSeed, knobs: knobs)
                exit(0)
            default:
                guard known[flag] != nil else {
                    Lesson.usage("unknown argument '\(arg)' (lesson\(name) --help lists the flags)")
                }
                values.removeAll { $0.flag == flag }
                values.append((flag, next()))
            }
        }
        let changing = values.filter { known[$0.flag]!.changesResults }
        let experiment = quick || seedGiven || !changing.isEmpty
        self.name = name
        self.quick = quick
        self.seed = seed
        self.rng = SplitMix64(seed: seed)
        self.knobValues = values
        self.isExperiment = experiment
        if let plots {
            self.plotDirectory = plots + "/" + name
        } else if experiment {
            var words = changing.map {
                Lesson.slug(String($0.flag.dropFirst(2))) + "-" + Lesson.slug($0.value)
            }
            if seedGiven { words.insert("seed-\(seed)", at: 0) }
            if quick { words.insert("quick", at: 0) }
            self.plotDirectory = "experiments/" + name + "/" + words.joined(separator: "_")
        } else {
            self.plotDirectory = "plots/" + name
        }
        let rule = String(repeating: "═", count: 78)
        print(rule)
        print("Lesson \(name) · \(title)\(quick ? " · quick run" : "")")
        print("seed \(seed) · SIMD threads \(Threads.count) · charts → \(plotDirectory)/")
        if experiment && plots == nil {
            print("(an experiment: the committed charts in plots/\(name)/ stay as they are)")
        }
        print(rule)
    }

    private static func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(2)
    }

    private static func printHelp(_ name: String, title: String, defaultSeed: UInt64, knobs: [Knob]) {
        var rows: [(String, String)] = [
            ("--quick", "a seconds-long version (the smoke tests run it)"),
            ("--seed N", "the random seed (default \(defaultSeed))"),
            ("--threads N", "threads of the SIMD core (default \(Threads.count))"),
            (
                "--plots DIR",
                "write charts to DIR/\(name)/ (default plots/\(name)/, or experiments/\(name)/… when a flag changes a result)"
            ),
        ]
        for k in knobs {
            rows.append(
                ("\(k.flag) \(k.placeholder)", k.help + (k.defaultText.map { " (default \($0))" } ?? "")))
        }
        print("lesson\(name): \(title)\n\nusage: lesson\(name) [flags]\n")
        let width = rows.map(\.0.count).max() ?? 0
        for (flag, help) in rows {
            print("  " + flag.padding(toLength: width + 2, withPad: " ", startingAt: 0) + help)
        }
    }

    /// Lower-case letters, digits, '.', and '-' for everything else: a folder-name piece. A long
    /// value (a list of 64 logits) keeps its first characters and a hash of the whole, so two
    /// different lists never share a folder.
    private static func slug(_ text: String) -> String {
        let s = String(
            text.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber || $0 == "." ? $0 : "-" })
        if s.isEmpty { return "-" }
        if s.count <= 24 { return s }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, 64 bits
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(s.prefix(16)) + "-" + String(String(hash, radix: 16).prefix(8))
    }

    /// The value given for a knob (`--flag VALUE` or `--flag=VALUE`), or nil.
    public func option(_ flag: String) -> String? {
        knobValues.last { $0.flag == flag }?.value
    }

    /// A knob's value as text, `fallback` when not given.
    public func string(_ flag: String, default fallback: String) -> String { option(flag) ?? fallback }

    /// A knob's value as a number in `range`, `fallback` when not given; anything else stops the
    /// lesson naming the flag.
    public func double(_ flag: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        double(flag, in: range) ?? fallback
    }

    /// A knob's value as a number in `range`, nil when not given.
    public func double(_ flag: String, in range: ClosedRange<Double>) -> Double? {
        guard let text = option(flag) else { return nil }
        guard let x = Double(text), x.isFinite, range.contains(x) else {
            let what =
                range == Double.leastNonzeroMagnitude...Double.greatestFiniteMagnitude
                ? "a positive number" : "a number from \(range.lowerBound) to \(range.upperBound)"
            Lesson.usage("\(flag) needs \(what), got '\(text)'")
        }
        return x
    }

    /// A knob's value as a whole number in `range`, `fallback` when not given.
    public func int(_ flag: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        int(flag, in: range) ?? fallback
    }

    /// A knob's value as a whole number in `range`, nil when not given.
    public func int(_ flag: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = option(flag) else { return nil }
        guard let n = Int(text), range.contains(n) else {
            let what =
                range.upperBound == Int.max
                ? "a whole number ≥ \(range.lowerBound)"
                : "a whole number from \(range.lowerBound) to \(range.upperBound)"
            Lesson.usage("\(flag) needs \(what), got '\(text)'")
        }
        return n
    }

    /// A knob's value as a comma-separated list of `count` numbers (any count if nil) in `range`.
    public func doubles(
        _ flag: String, default fallback: [Double], count: Int? = nil,
        in range: ClosedRange<Double>
    ) -> [Double] {
        guard let text = option(flag) else { return fallback }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == parts.count, !values.isEmpty, count.map({ values.count == $0 }) ?? true,
            values.allSatisfy({ $0.isFinite && range.contains($0) })
        else {
            let how = count.map { "\($0) numbers" } ?? "numbers"
            Lesson.usage(
                "\(flag) needs \(how) from \(range.lowerBound) to \(range.upperBound) separated by commas, got '\(text)'"
            )
        }
        return values
    }

    /// A knob whose value is one of `choices`, `fallback` when not given.
    public func choice(_ flag: String, default fallback: String, from choices: [String]) -> String {
        guard let text = option(flag) else { return fallback }
        guard choices.contains(text) else {
            Lesson.usage("\(flag) takes one of \(choices.joined(separator: ", ")), got '\(text)'")
        }
        return text
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
        print(
            "lesson\(name): \(claims.count - failed.count) of \(claims.count) claims hold"
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

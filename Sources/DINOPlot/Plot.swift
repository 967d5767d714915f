import DINOCore
import Foundation

/// Columns of numbers for one chart: the `.dat` file gnuplot reads. Rows may be grouped into
/// blocks (gnuplot's `index`), for curves of different lengths in one file.
public struct Series: Sendable {
    public var columns: [String]
    public private(set) var blocks: [[[Double]]] = [[]]
    public private(set) var blockNames: [String] = [""]

    public init(columns: [String]) { self.columns = columns }

    public mutating func append(_ row: [Double]) {
        precondition(row.count == columns.count, "Series: row has \(row.count) values for columns \(columns)")
        blocks[blocks.count - 1].append(row)
    }
    public mutating func append(_ row: [Float]) { append(row.map(Double.init)) }

    /// Starts a new block (gnuplot `index N`), named in a comment line.
    public mutating func newBlock(_ name: String) {
        if blocks.count == 1 && blocks[0].isEmpty { blockNames[0] = name; return }
        blocks.append([])
        blockNames.append(name)
    }

    public var rowCount: Int { blocks.reduce(0) { $0 + $1.count } }

    /// The .dat text: a header, the column names, then the rows.
    public func text(header: [String]) -> String {
        var out = header.map { "# \($0)\n" }.joined()
        out += "# columns: " + columns.joined(separator: " ") + "\n"
        for (b, block) in blocks.enumerated() {
            if b > 0 { out += "\n\n" }
            if !blockNames[b].isEmpty { out += "# block \(b): \(blockNames[b])\n" }
            for row in block {
                out +=
                    row.map { v in v.isFinite ? String(format: "%.9g", v) : "NaN" }.joined(separator: " ")
                    + "\n"
            }
        }
        return out
    }
}

/// What one chart draws: a gnuplot `plot` of columns of the `.dat` file.
public struct ChartSpec: Sendable {
    public struct Curve: Sendable {
        public var using: String
        public var title: String
        public var style: String
        public var block: Int?
        /// `using` is gnuplot's column spec, e.g. "1:2"; style e.g. "lines lw 2".
        public init(using: String, title: String, style: String = "lines lw 2", block: Int? = nil) {
            self.using = using
            self.title = title
            self.style = style
            self.block = block
        }
    }
    /// A labelled straight line across the plot: vertical at one x (where a warm-up ends, say)
    /// or horizontal at one y (chance level, a baseline). Drawn dashed, in front of the curves,
    /// with its label beside it (on an opaque box, so a curve underneath does not hide it).
    public struct Rule: Sendable {
        public enum Direction: Sendable { case vertical, horizontal }
        public var direction: Direction
        /// The x of a vertical rule, the y of a horizontal one, in the first axes' units.
        public var value: Double
        public var label: String
        /// A gnuplot colour, e.g. "#555555".
        public var color: String
        public init(_ direction: Direction, at value: Double, label: String, color: String = "#555555") {
            self.direction = direction
            self.value = value
            self.label = label
            self.color = color
        }
        public static func vertical(at x: Double, _ label: String, color: String = "#555555") -> Rule {
            Rule(.vertical, at: x, label: label, color: color)
        }
        public static func horizontal(at y: Double, _ label: String, color: String = "#555555") -> Rule {
            Rule(.horizontal, at: y, label: label, color: color)
        }

        /// The gnuplot lines that draw it: an arrow without a head, and its label (a vertical
        /// rule's label runs up along its right side from the top, a horizontal one's sits above
        /// it at the left).
        var lines: [String] {
            let v = String(format: "%.9g", value), c = "lc rgb '\(color)'", t = "tc rgb '\(color)'"
            switch direction {
            case .vertical:
                return [
                    "set arrow from \(v), graph 0 to \(v), graph 1 nohead dt 2 lw 1.5 \(c) front",
                    "set label \"\(escape(label))\" at \(v), graph 0.98 right rotate by 90 offset 0.9,0 \(t) front boxed",
                ]
            case .horizontal:
                return [
                    "set arrow from graph 0, first \(v) to graph 1, first \(v) nohead dt 2 lw 1.5 \(c) front",
                    "set label \"\(escape(label))\" at graph 0.01, first \(v) left offset 0,0.7 \(t) front boxed",
                ]
            }
        }
    }
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX = false
    public var logY = false
    public var curves: [Curve]
    /// Extra gnuplot lines placed before `plot` (ranges, key position, a second axis, …).
    public var extra: [String] = []
    /// Labelled vertical and horizontal lines (drawn before `extra`, which may restyle them).
    public var rules: [Rule] = []
    /// When not empty, the chart is these panels in a grid of `panelColumns` columns (gnuplot's
    /// multiplot), each with its own title, axes, curves, rules and extra lines, all reading the
    /// same `.dat`; this chart's `title` goes above them and its own curves are not drawn. For
    /// quantities on different scales (a learning rate near 1e-3 and a momentum near 0.996), so
    /// that none is flattened on an axis made for another.
    public var panels: [ChartSpec] = []
    public var panelColumns = 2
    public var size = (width: 900, height: 540)

    public init(
        title: String, x: String, y: String, logX: Bool = false, logY: Bool = false,
        curves: [Curve], extra: [String] = []
    ) {
        self.title = title
        self.xLabel = x
        self.yLabel = y
        self.logX = logX
        self.logY = logY
        self.curves = curves
        self.extra = extra
    }

    /// A chart of `panels` (see ``panels``), `columns` to a row, sized for them.
    public static func panels(_ title: String, _ panels: [ChartSpec], columns: Int = 2) -> ChartSpec {
        var chart = ChartSpec(title: title, x: "", y: "", curves: [])
        chart.panels = panels
        chart.panelColumns = max(1, columns)
        let rows = (panels.count + chart.panelColumns - 1) / chart.panelColumns
        chart.size = (width: min(1400, 500 * chart.panelColumns), height: 60 + 340 * max(rows, 1))
        return chart
    }

    /// One curve per column after the first: column 1 is x.
    public static func columns(
        _ series: Series, title: String, x: String, y: String,
        logX: Bool = false, logY: Bool = false, style: String = "lines lw 2"
    ) -> ChartSpec {
        ChartSpec(
            title: title, x: x, y: y, logX: logX, logY: logY,
            curves: series.columns.indices.dropFirst().map {
                Curve(using: "1:\($0 + 1)", title: series.columns[$0], style: style)
            })
    }

    func script(name: String, header: String) -> String {
        var s = "# \(header)\n# edit and re-run: gnuplot \(name).gp (from this folder)\n"
        s += "set terminal pngcairo size \(size.width),\(size.height) noenhanced font \"Sans,11\"\n"
        s += "set output \"\(name).png\"\n"
        guard !panels.isEmpty else { return s + body(name: name, key: "set key outside right") }
        let rows = (panels.count + panelColumns - 1) / panelColumns
        s += "set multiplot layout \(rows),\(panelColumns) title \"\(escape(title))\"\n"
        for (i, panel) in panels.enumerated() {
            // `reset` between panels: ranges, rules and labels of one never leak into the next.
            if i > 0 { s += "reset\n" }
            s += "# panel \(i + 1)\n"
            s += panel.body(
                name: name, key: panel.curves.count > 1 ? "set key inside top right" : "unset key")
        }
        return s + "unset multiplot\n"
    }

    /// Title, labels, grid, key, scales, rules, extra lines and the `plot` command.
    private func body(name: String, key: String) -> String {
        var s =
            "set title \"\(escape(title))\"\nset xlabel \"\(escape(xLabel))\"\nset ylabel \"\(escape(yLabel))\"\n"
        s += "set grid\n\(key)\n"
        if logX { s += "set logscale x\n" }
        if logY { s += "set logscale y\n" }
        if !rules.isEmpty { s += "set style textbox opaque noborder\n" }
        for line in rules.flatMap(\.lines) { s += line + "\n" }
        for line in extra { s += line + "\n" }
        let parts = curves.map { c in
            "\"\(name).dat\"" + (c.block.map { " index \($0)" } ?? "")
                + " using \(c.using) with \(c.style) title \"\(escape(c.title))\""
        }
        s += "plot " + parts.joined(separator: ", \\\n     ") + "\n"
        return s
    }
}

private func escape(_ s: String) -> String { s.replacingOccurrences(of: "\"", with: "\\\"") }

/// What happened when a chart was written.
public struct PlotResult: Sendable, CustomStringConvertible {
    public var directory: String
    public var name: String
    /// nil when the PNG was drawn; otherwise why not (gnuplot missing or failed).
    public var problem: String?
    public var pngPath: String { directory + "/" + name + ".png" }
    public var description: String {
        if let problem {
            return
                "wrote \(directory)/\(name).dat and .gp; no PNG: \(problem) (cd \(directory) && gnuplot \(name).gp)"
        }
        return "wrote \(pngPath)"
    }
}

/// Writes `NAME.dat`, `NAME.gp` and, through a real gnuplot process, `NAME.png` (the idea of
/// gnuplot-iostream: data and script piped to gnuplot, nothing linked).
public enum Gnuplot {
    /// The gnuplot executable, or nil if none is installed.
    public static let executable: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in paths + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(dir)/gnuplot"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Writes the three files of one chart into `directory` (created if needed).
    /// - Throws: ``FileError`` if the folder cannot be created or a file cannot be written.
    @discardableResult
    public static func plot(
        _ name: String, in directory: String, data: Series, chart: ChartSpec,
        header: [String]
    ) throws -> PlotResult {
        try write(
            name, in: directory, dat: data.text(header: header),
            script: chart.script(name: name, header: header.first ?? ""))
    }

    /// Writes a chart from a hand-written gnuplot script (which must write `NAME.png`).
    @discardableResult
    public static func write(
        _ name: String, in directory: String, dat: String, script: String
    ) throws -> PlotResult {
        try Files.ensureDirectory(directory)
        try Files.atomicWrite(dat, to: directory + "/" + name + ".dat")
        try Files.atomicWrite(script, to: directory + "/" + name + ".gp")
        return render(name, in: directory)
    }

    /// Runs gnuplot on `NAME.gp` inside `directory`.
    public static func render(_ name: String, in directory: String) -> PlotResult {
        guard let executable else {
            return PlotResult(
                directory: directory, name: name,
                problem: "gnuplot is not installed (apt-get install gnuplot-nox)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [name + ".gp"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            return PlotResult(directory: directory, name: name, problem: "could not start gnuplot: \(error)")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            let first =
                message.split(separator: "\n").first(where: {
                    !$0.trimmingCharacters(in: .whitespaces).isEmpty
                }) ?? ""
            return PlotResult(directory: directory, name: name, problem: "gnuplot failed: \(first)")
        }
        return PlotResult(directory: directory, name: name, problem: nil)
    }

}

import Foundation

/// The captions of a picture sheet, drawn in margins added around it with ``BitmapFont``: a title
/// line, bands of column labels above the sheet and row labels to its left, and a footer line
/// below it (what the colours mean), so that a reader knows what every tile is without the text
/// around the picture.
///
///     var captions = SheetCaptions(title: "CLS attention, random weights", scale: 2)
///     captions.columnBands = [SheetCaptions.grid(["image", "head 1", "head 2"], origin: 4, cell: 168, gap: 4)]
///     captions.rows = SheetCaptions.grid(["Ankle boot", "Pullover"], origin: 4, cell: 168, gap: 4)
///     let picture = sheet.captioned(captions)
public struct SheetCaptions: Sendable {
    /// One label, centred on the span `start ..< start + length` of the sheet's columns (a
    /// column label) or rows (a row label), in the sheet's pixels.
    public struct Label: Sendable {
        public var text: String
        public var start: Int
        public var length: Int
        public init(_ text: String, start: Int, length: Int) {
            self.text = text
            self.start = start
            self.length = length
        }
    }

    /// Above everything, left-aligned; wrapped at spaces to the captioned picture's width.
    public var title: String?
    /// Bands of column labels, top to bottom (a band of group names over a band of column
    /// names, say). A label wider than its span is wrapped at spaces.
    public var columnBands: [[Label]] = []
    /// Row labels, right-aligned against the sheet's left edge ("\n" for several lines).
    public var rows: [Label] = []
    /// Below the sheet, left-aligned and wrapped like the title.
    public var footer: String?
    /// Image pixels per font pixel (2: capitals 14 px tall).
    public var scale: Int
    /// Text colour, one gray value or one per channel.
    public var color: [Float] = [0.12]

    public init(title: String? = nil, footer: String? = nil, scale: Int = 2) {
        self.title = title
        self.footer = footer
        self.scale = scale
    }

    /// Labels for cells laid out evenly: cell i spans `origin + i·(cell + gap) ..< … + cell`.
    public static func grid(_ texts: [String], origin: Int, cell: Int, gap: Int) -> [Label] {
        texts.enumerated().map { Label($0.element, start: origin + $0.offset * (cell + gap), length: cell) }
    }
}

extension Image {
    /// This picture in a larger white canvas with `captions` drawn in the margins (see
    /// ``SheetCaptions``). The picture itself is pasted unchanged.
    public func captioned(_ captions: SheetCaptions) -> Image {
        let s = max(captions.scale, 1), pad = 4 * s
        let color =
            captions.color.count == channels
            ? captions.color : [Float](repeating: captions.color[0], count: channels)
        let bands = captions.columnBands.map { band in
            band.map {
                SheetCaptions.Label(
                    Image.wrapText($0.text, width: $0.length, scale: s), start: $0.start, length: $0.length)
            }
        }
        let bandHeights = bands.map { band in
            (band.map { Image.textHeight($0.text, scale: s) }.max() ?? 0) + pad
        }
        let rowWidth = captions.rows.map { Image.textWidth($0.text, scale: s) }.max() ?? 0
        let left = captions.rows.isEmpty ? 0 : rowWidth + 3 * pad
        let width = left + self.width + (captions.rows.isEmpty ? 0 : pad)
        let title = captions.title.map { Image.wrapText($0, width: width - 2 * pad, scale: s) }
        let footer = captions.footer.map { Image.wrapText($0, width: width - 2 * pad, scale: s) }
        let titleHeight = title.map { Image.textHeight($0, scale: s) + 2 * pad } ?? 0
        let top = pad + titleHeight + bandHeights.reduce(0, +)
        let bottom = footer.map { Image.textHeight($0, scale: s) + 3 * pad } ?? pad
        var out = Image(width: width, height: top + self.height + bottom, channels: channels, fill: [1])
        out.paste(self, x: left, y: top)
        if let title { out.drawText(title, x: pad, y: pad, color: color, scale: s) }
        var bandTop = pad + titleHeight
        for (band, height) in zip(bands, bandHeights) {
            for label in band {
                // Bottom-aligned in its band: the label sits just above what it names.
                let y = bandTop + height - pad - Image.textHeight(label.text, scale: s)
                out.drawText(
                    label.text, centeredAt: left + label.start + label.length / 2, y: y, color: color,
                    scale: s)
            }
            bandTop += height
        }
        for label in captions.rows {
            let lines = label.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let y0 = top + label.start + label.length / 2 - Image.textHeight(label.text, scale: s) / 2
            for (i, line) in lines.enumerated() {
                out.drawText(
                    line, x: left - 2 * pad - Image.textWidth(line, scale: s),
                    y: y0 + i * BitmapFont.lineHeight * s,
                    color: color, scale: s)
            }
        }
        if let footer { out.drawText(footer, x: pad, y: top + self.height + 2 * pad, color: color, scale: s) }
        return out
    }
}

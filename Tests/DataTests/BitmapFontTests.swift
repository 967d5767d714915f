import DINOData
import Foundation
import Testing

@Suite("bitmap font and captions") struct BitmapFontTests {
    /// The lit pixels of channel 0 as (x, y) pairs.
    func lit(_ image: Image, channel: Int = 0) -> Set<[Int]> {
        var out: Set<[Int]> = []
        for y in 0..<image.height {
            for x in 0..<image.width where image[channel, y, x] > 0.5 { out.insert([x, y]) }
        }
        return out
    }

    @Test func everyPrintableASCIICharacterHasItsOwnGlyph() {
        var seen: [[UInt8]: Character] = [:]
        for code in 32...126 {
            let c = Character(Unicode.Scalar(UInt8(code)))
            let rows = BitmapFont.glyph(c)
            #expect(rows != nil, "no glyph for '\(c)'")
            guard let rows else { continue }
            #expect(rows.count == BitmapFont.capHeight + BitmapFont.descent)
            #expect(
                rows.allSatisfy { $0 < 1 << BitmapFont.glyphWidth },
                "'\(c)' is wider than \(BitmapFont.glyphWidth)")
            #expect(code == 32 || rows.contains { $0 != 0 }, "'\(c)' is blank")
            #expect(rows != BitmapFont.placeholder, "'\(c)' looks like the placeholder box")
            if let other = seen[rows] { Issue.record("'\(c)' and '\(other)' have the same glyph") }
            seen[rows] = c
        }
        // Descenders go below the capital height; capitals do not.
        #expect(BitmapFont.glyph("g")!.suffix(BitmapFont.descent).contains { $0 != 0 })
        #expect(BitmapFont.glyph("E")!.suffix(BitmapFont.descent).allSatisfy { $0 == 0 })
        for c in "τλσ×·→≤" { #expect(BitmapFont.hasGlyph(c), "no glyph for '\(c)'") }
    }

    @Test func aGlyphsPixelsLandWhereItsPictureSays() {
        // "T" is ##### then ..#.. six times: with its corner at (3, 2) the bar covers x 3…7 of
        // row 2 and the stem is column 5 of rows 3…8.
        var image = Image(width: 12, height: 12, channels: 1)
        image.drawText("T", x: 3, y: 2, color: [1])
        var expected: Set<[Int]> = Set((3...7).map { [$0, 2] })
        for y in 3...8 { expected.insert([5, y]) }
        #expect(lit(image) == expected)
    }

    @Test func scaleMakesEveryFontPixelASquare() {
        var image = Image(width: 8, height: 20, channels: 1)
        image.drawText(".", x: 0, y: 0, color: [1], scale: 2)
        // "." is .##.. in rows 6 and 7 (1-based): font pixels (1…2, 5…6), so image pixels x 2…5, y 10…13.
        var expected: Set<[Int]> = []
        for x in 2...5 { for y in 10...13 { expected.insert([x, y]) } }
        #expect(lit(image) == expected)
    }

    @Test func textWidthAndHeight() {
        #expect(Image.textWidth("") == 0)
        #expect(Image.textWidth("A") == 5)
        #expect(Image.textWidth("AB") == 11)
        #expect(Image.textWidth("AB", scale: 2) == 22)
        #expect(Image.textWidth("ab\nabcd") == 23)  // the longest line
        #expect(Image.textWidth("τ = 0.04") == 47)  // one character each, Greek or not
        #expect(Image.textHeight("A") == 9)
        #expect(Image.textHeight("A\nB", scale: 3) == 60)
        // Drawn text never reaches past textWidth.
        var image = Image(width: 80, height: 12, channels: 1)
        image.drawText("W#@M", x: 0, y: 0, color: [1])
        #expect(lit(image).map { $0[0] }.max()! == Image.textWidth("W#@M") - 1)
    }

    @Test func clippingAtEveryEdgeDoesNotTrap() {
        var image = Image(width: 10, height: 6, channels: 3)
        for (x, y) in [(-3, -4), (7, 2), (-20, -20), (9, 5), (100, 0), (0, 100), (Int.min / 4, Int.max / 4)] {
            image.drawText("Hg|", x: x, y: y, color: [1, 1, 1], scale: 2)
        }
        // Rectangles and pictures wholly outside are nothing to draw, not an empty range to trap on.
        image.fillRectangle(x: 20, y: 20, width: 3, height: 3, color: [1, 1, 1])
        image.paste(Image(width: 4, height: 4, channels: 1, fill: [1]), x: -10, y: 30)
        // A glyph half off the left edge keeps its visible half: "H" at x = -2 (scale 1) shows
        // its columns 2…4, of which column 4 (x = 2) is the right stem.
        var small = Image(width: 6, height: 9, channels: 1)
        small.drawText("H", x: -2, y: 0, color: [1])
        #expect(lit(small) == Set((0..<7).map { [2, $0] } + [[0, 3], [1, 3]]))
    }

    @Test func unknownCharactersBecomeAVisibleBox() {
        var image = Image(width: 7, height: 11, channels: 1)
        image.drawText("中", x: 1, y: 1, color: [1])
        var box: Set<[Int]> = []
        for x in 1...5 { box.insert([x, 1]); box.insert([x, 7]) }
        for y in 1...7 { box.insert([1, y]); box.insert([5, y]) }
        #expect(lit(image) == box)
        #expect(Image.textWidth("中") == 5)
    }

    @Test func colourGoesToItsChannelsOnly() {
        var image = Image(width: 8, height: 10, channels: 3)
        image.drawText("I", x: 1, y: 1, color: [1, 0, 0.5])
        #expect(!lit(image, channel: 0).isEmpty)
        #expect(lit(image, channel: 1).isEmpty)
        #expect(image[2, 1, 2] == 0.5)
    }

    @Test func wrappingBreaksAtSpaces() {
        #expect(Image.wrapText("brightness ×1.30", width: 160, scale: 2) == "brightness\n×1.30")
        #expect(Image.wrapText("flip", width: 10) == "flip")  // one word keeps its line
        #expect(Image.wrapText("a b c", width: 100) == "a b c")
        #expect(Image.wrapText("head 1\nhead 2", width: 100) == "head 1\nhead 2")
    }

    @Test func captionsAddMarginsAndKeepThePicture() {
        var sheet = Image(width: 40, height: 30, channels: 3, fill: [0.5])
        sheet[1, 7, 9] = 0.25
        var captions = SheetCaptions(title: "a title", footer: "what the colours mean", scale: 1)
        captions.columnBands = [SheetCaptions.grid(["left", "right"], origin: 0, cell: 20, gap: 0)]
        captions.rows = [SheetCaptions.Label("row", start: 0, length: 30)]
        let out = sheet.captioned(captions)
        #expect(out.width > sheet.width && out.height > sheet.height)
        // The picture is pasted unchanged: find its corner by its marked pixel.
        var corner: (Int, Int)?
        for y in 0..<out.height {
            for x in 0..<out.width where out[1, y, x] == 0.25 { corner = (x - 9, y - 7) }
        }
        let (x0, y0) = corner!
        for y in 0..<sheet.height {
            for x in 0..<sheet.width { #expect(out[0, y0 + y, x0 + x] == sheet[0, y, x]) }
        }
        // Text lies in the margins only: above, left of and below the picture, never on it.
        var above = 0, left = 0, below = 0
        for y in 0..<out.height {
            for x in 0..<out.width where out[0, y, x] < 0.2 {
                if y < y0 {
                    above += 1
                } else if y >= y0 + sheet.height {
                    below += 1
                } else if x < x0 {
                    left += 1
                }
            }
        }
        #expect(above > 0 && left > 0 && below > 0)
    }
}

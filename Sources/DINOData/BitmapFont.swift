import Foundation

// A small fixed bitmap font, so that picture sheets written as PNG can carry their own captions
// (column and row labels, a title line) without a font library.

/// A 5 × 7 pixel font (capitals and digits 7 rows tall; descenders of g, j, p, q, y, comma and
/// semicolon 2 rows below) for printable ASCII 32-126 and the few symbols the lessons' captions
/// use (τ λ σ μ Δ × · → ← ≤ ≥ ± ° – … ‖).
///
/// Every glyph is a 5-pixel-wide cell; text advances 6 pixels per character (1 pixel between
/// glyphs) and 11 pixels per line (7 + 2 descender rows + 2 between lines). A character without a
/// glyph is drawn as a hollow 5 × 7 box: visible, never a crash.
public enum BitmapFont {
    /// Width of a glyph in font pixels.
    public static let glyphWidth = 5
    /// Height of capitals and digits; the top of a line's text box is the top of its capitals.
    public static let capHeight = 7
    /// Rows below the baseline for descenders.
    public static let descent = 2
    /// Horizontal distance from one character to the next.
    public static let advance = 6
    /// Vertical distance from one line to the next.
    public static let lineHeight = 11

    /// The rows of `character`'s glyph, top to bottom, `capHeight + descent` of them; bit 4 of a
    /// row is the leftmost pixel. nil when the font has no glyph for it.
    public static func glyph(_ character: Character) -> [UInt8]? { glyphs[character] }

    /// Whether `character` has a glyph (anything else is drawn as the placeholder box).
    public static func hasGlyph(_ character: Character) -> Bool { glyphs[character] != nil }

    /// The hollow box drawn for a character the font does not have.
    public static let placeholder: [UInt8] = rows("##### #...# #...# #...# #...# #...# #####")

    /// Parses "##### #...# …": one 5-character word per row, '#' on, '.' off; fewer than
    /// `capHeight + descent` rows are padded with empty ones.
    static func rows(_ picture: String) -> [UInt8] {
        var out = picture.split(separator: " ").map { word -> UInt8 in
            precondition(word.count == glyphWidth, "BitmapFont: row '\(word)' is not \(glyphWidth) wide")
            return word.reduce(UInt8(0)) { ($0 << 1) | ($1 == "#" ? 1 : 0) }
        }
        precondition(out.count <= capHeight + descent, "BitmapFont: \(out.count) rows in '\(picture)'")
        while out.count < capHeight + descent { out.append(0) }
        return out
    }

    static let glyphs: [Character: [UInt8]] = {
        var table: [Character: [UInt8]] = [:]
        for (character, picture) in pictures {
            precondition(table[character] == nil, "BitmapFont: '\(character)' defined twice")
            table[character] = rows(picture)
        }
        return table
    }()

    // Rows 1-7 are the capital height, rows 8-9 the descenders (omitted when empty).
    static let pictures: [(Character, String)] = [
        (" ", "....."),
        ("!", "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.."),
        ("\"", ".#.#. .#.#. .#.#."),
        ("#", ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#."),
        ("$", "..#.. .#### #.#.. .###. ..#.# ####. ..#.."),
        ("%", "##... ##..# ...#. ..#.. .#... #..## ...##"),
        ("&", ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#"),
        ("'", "..#.. ..#.. ..#.."),
        ("(", "...#. ..#.. .#... .#... .#... ..#.. ...#."),
        (")", ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
        ("*", "..... ..#.. #.#.# .###. #.#.# ..#.. ....."),
        ("+", "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
        (",", "..... ..... ..... ..... ..... .##.. .##.. ..#.. .#..."),
        ("-", "..... ..... ..... .###. ..... ..... ....."),
        (".", "..... ..... ..... ..... ..... .##.. .##.."),
        ("/", "..... ....# ...#. ..#.. .#... #.... ....."),
        ("0", ".###. #...# #..## #.#.# ##..# #...# .###."),
        ("1", "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
        ("2", ".###. #...# ....# ...#. ..#.. .#... #####"),
        ("3", "##### ...#. ..#.. ...#. ....# #...# .###."),
        ("4", "...#. ..##. .#.#. #..#. ##### ...#. ...#."),
        ("5", "##### #.... ####. ....# ....# #...# .###."),
        ("6", "..##. .#... #.... ####. #...# #...# .###."),
        ("7", "##### ....# ...#. ..#.. .#... .#... .#..."),
        ("8", ".###. #...# #...# .###. #...# #...# .###."),
        ("9", ".###. #...# #...# .#### ....# ...#. .##.."),
        (":", "..... .##.. .##.. ..... .##.. .##.. ....."),
        (";", "..... .##.. .##.. ..... .##.. .##.. ..#.. .#..."),
        ("<", "...#. ..#.. .#... #.... .#... ..#.. ...#."),
        ("=", "..... ..... ##### ..... ##### ..... ....."),
        (">", ".#... ..#.. ...#. ....# ...#. ..#.. .#..."),
        ("?", ".###. #...# ....# ...#. ..#.. ..... ..#.."),
        ("@", ".###. #...# #.### #.#.# #.### #.... .####"),
        ("A", ".###. #...# #...# ##### #...# #...# #...#"),
        ("B", "####. #...# #...# ####. #...# #...# ####."),
        ("C", ".###. #...# #.... #.... #.... #...# .###."),
        ("D", "###.. #..#. #...# #...# #...# #..#. ###.."),
        ("E", "##### #.... #.... ####. #.... #.... #####"),
        ("F", "##### #.... #.... ####. #.... #.... #...."),
        ("G", ".###. #...# #.... #.### #...# #...# .####"),
        ("H", "#...# #...# #...# ##### #...# #...# #...#"),
        ("I", ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
        ("J", "..### ...#. ...#. ...#. ...#. #..#. .##.."),
        ("K", "#...# #..#. #.#.. ##... #.#.. #..#. #...#"),
        ("L", "#.... #.... #.... #.... #.... #.... #####"),
        ("M", "#...# ##.## #.#.# #.#.# #...# #...# #...#"),
        ("N", "#...# #...# ##..# #.#.# #..## #...# #...#"),
        ("O", ".###. #...# #...# #...# #...# #...# .###."),
        ("P", "####. #...# #...# ####. #.... #.... #...."),
        ("Q", ".###. #...# #...# #...# #.#.# #..#. .##.#"),
        ("R", "####. #...# #...# ####. #.#.. #..#. #...#"),
        ("S", ".#### #.... #.... .###. ....# ....# ####."),
        ("T", "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
        ("U", "#...# #...# #...# #...# #...# #...# .###."),
        ("V", "#...# #...# #...# #...# #...# .#.#. ..#.."),
        ("W", "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."),
        ("X", "#...# #...# .#.#. ..#.. .#.#. #...# #...#"),
        ("Y", "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."),
        ("Z", "##### ....# ...#. ..#.. .#... #.... #####"),
        ("[", ".###. .#... .#... .#... .#... .#... .###."),
        ("\\", "..... #.... .#... ..#.. ...#. ....# ....."),
        ("]", ".###. ...#. ...#. ...#. ...#. ...#. .###."),
        ("^", "..#.. .#.#. #...#"),
        ("_", "..... ..... ..... ..... ..... ..... ..... #####"),
        ("`", ".#... ..#.."),
        ("a", "..... ..... .###. ....# .#### #...# .####"),
        ("b", "#.... #.... #.##. ##..# #...# #...# ####."),
        ("c", "..... ..... .###. #.... #.... #...# .###."),
        ("d", "....# ....# .##.# #..## #...# #...# .####"),
        ("e", "..... ..... .###. #...# ##### #.... .###."),
        ("f", "..##. .#..# .#... ###.. .#... .#... .#..."),
        ("g", "..... ..... .#### #...# #...# #...# .#### ....# .###."),
        ("h", "#.... #.... #.##. ##..# #...# #...# #...#"),
        ("i", "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."),
        ("j", "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##.."),
        ("k", "#.... #.... #..#. #.#.. ##... #.#.. #..#."),
        ("l", ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
        ("m", "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#"),
        ("n", "..... ..... #.##. ##..# #...# #...# #...#"),
        ("o", "..... ..... .###. #...# #...# #...# .###."),
        ("p", "..... ..... ####. #...# #...# #...# ####. #.... #...."),
        ("q", "..... ..... .#### #...# #...# #...# .#### ....# ....#"),
        ("r", "..... ..... #.##. ##..# #.... #.... #...."),
        ("s", "..... ..... .#### #.... .###. ....# ####."),
        ("t", ".#... .#... ###.. .#... .#... .#..# ..##."),
        ("u", "..... ..... #...# #...# #...# #..## .##.#"),
        ("v", "..... ..... #...# #...# #...# .#.#. ..#.."),
        ("w", "..... ..... #...# #...# #.#.# #.#.# .#.#."),
        ("x", "..... ..... #...# .#.#. ..#.. .#.#. #...#"),
        ("y", "..... ..... #...# #...# #...# #...# .#### ....# .###."),
        ("z", "..... ..... ##### ...#. ..#.. .#... #####"),
        ("{", "...## ..#.. ..#.. .#... ..#.. ..#.. ...##"),
        ("|", "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
        ("}", "##... ..#.. ..#.. ...#. ..#.. ..#.. ##..."),
        ("~", "..... ..... .#... #.#.# ...#. ..... ....."),
        // The symbols of the captions.
        ("τ", "..... ..... ##### ..#.. ..#.. ..#.. ...##"),
        ("λ", "##... ..#.. ..#.. .#.#. .#.#. #...# #...#"),
        ("σ", "..... ..... .#### #..#. #...# #...# .###."),
        ("μ", "..... ..... #...# #...# #...# ##.## #.#.# #.... #...."),
        ("Δ", "..#.. ..#.. .#.#. .#.#. #...# #...# #####"),
        ("×", "..... #...# .#.#. ..#.. .#.#. #...# ....."),
        ("·", "..... ..... ..... ..#.. ..... ..... ....."),
        ("→", "..... ..#.. ...#. ##### ...#. ..#.. ....."),
        ("←", "..... ..#.. .#... ##### .#... ..#.. ....."),
        ("≤", "...#. ..#.. .#... ..#.. ...#. ..... .####"),
        ("≥", ".#... ..#.. ...#. ..#.. .#... ..... ####."),
        ("±", "..#.. ..#.. ##### ..#.. ..#.. ..... #####"),
        ("°", ".##.. #..#. .##.."),
        ("–", "..... ..... ..... ##### ..... ..... ....."),
        ("…", "..... ..... ..... ..... ..... ..... #.#.#"),
        ("‖", ".#.#. .#.#. .#.#. .#.#. .#.#. .#.#. .#.#."),
    ]
}

extension Image {
    /// Width in pixels of `text` drawn at `scale` (the longest line when it has several):
    /// `advance · characters − 1` font pixels, each `scale` image pixels wide; 0 for "".
    public static func textWidth(_ text: String, scale: Int = 1) -> Int {
        let longest = text.split(separator: "\n", omittingEmptySubsequences: false).map(\.count).max() ?? 0
        return longest == 0 ? 0 : (longest * BitmapFont.advance - 1) * max(scale, 1)
    }

    /// Height in pixels of `text` drawn at `scale`: the capital height of the last line plus its
    /// descenders, and `lineHeight` for every line before it.
    public static func textHeight(_ text: String, scale: Int = 1) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        return ((lines - 1) * BitmapFont.lineHeight + BitmapFont.capHeight + BitmapFont.descent)
            * max(scale, 1)
    }

    /// Draws `text` with its first line's top-left corner at (`x`, `y`): every font pixel a
    /// `scale × scale` square of `color` (one value per channel). "\n" starts a new line. Pixels
    /// outside the image are skipped, so text may run off any edge; characters without a glyph
    /// are drawn as ``BitmapFont/placeholder``.
    public mutating func drawText(_ text: String, x: Int, y: Int, color: [Float], scale: Int = 1) {
        precondition(
            color.count == channels, "Image.drawText: \(color.count) colour values for \(channels) channels")
        precondition(scale >= 1, "Image.drawText: scale \(scale) must be ≥ 1")
        var penX = x, penY = y
        for character in text {
            if character == "\n" {
                penX = x
                penY += BitmapFont.lineHeight * scale
                continue
            }
            let rows = BitmapFont.glyph(character) ?? BitmapFont.placeholder
            for (r, bits) in rows.enumerated() where bits != 0 {
                for col in 0..<BitmapFont.glyphWidth
                where bits & (1 << (BitmapFont.glyphWidth - 1 - col)) != 0 {
                    fillRectangle(
                        x: penX + col * scale, y: penY + r * scale, width: scale, height: scale, color: color)
                }
            }
            penX += BitmapFont.advance * scale
        }
    }

    /// Draws `text` centred on the column `centerX` (each line on its own), its top at `y`.
    public mutating func drawText(
        _ text: String, centeredAt centerX: Int, y: Int, color: [Float], scale: Int = 1
    ) {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let s = String(line)
            drawText(
                s, x: centerX - Image.textWidth(s, scale: scale) / 2,
                y: y + i * BitmapFont.lineHeight * scale,
                color: color, scale: scale)
        }
    }

    /// `text` broken at spaces into lines no wider than `width` pixels at `scale` (a single word
    /// wider than that keeps its own line).
    public static func wrapText(_ text: String, width: Int, scale: Int = 1) -> String {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                let candidate = line.isEmpty ? String(word) : line + " " + word
                if line.isEmpty || textWidth(candidate, scale: scale) <= width {
                    line = candidate
                } else {
                    lines.append(line)
                    line = String(word)
                }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

import Foundation

// A few drawing helpers for contact sheets and figures written as PNG (lesson 01's views,
// attention maps later): paste, rectangles, nearest-neighbour enlargement. Text and captions are
// in BitmapFont.swift and Captions.swift. Everything clips to the image: drawing partly or wholly
// outside it is allowed.

extension Image {
    /// Copies `other` with its top-left corner at (`x`, `y`), clipped to this image; a gray
    /// picture pasted into an RGB one is copied into all three channels.
    public mutating func paste(_ other: Image, x: Int, y: Int) {
        precondition(
            other.channels == channels || other.channels == 1,
            "Image.paste: \(other.channels) channels into \(channels)")
        // Clipped spans; empty (nothing to copy) when `other` lies wholly outside.
        let (y0, y1) = (max(0, -y), min(other.height, height - y))
        let (x0, x1) = (max(0, -x), min(other.width, width - x))
        guard y0 < y1, x0 < x1 else { return }
        for c in 0..<channels {
            let sc = other.channels == 1 ? 0 : c
            for yy in y0..<y1 {
                for xx in x0..<x1 {
                    self[c, y + yy, x + xx] = other[sc, yy, xx]
                }
            }
        }
    }

    /// Fills the rectangle (clipped to the image) with `color` (one value per channel).
    public mutating func fillRectangle(x: Int, y: Int, width w: Int, height h: Int, color: [Float]) {
        precondition(
            color.count == channels,
            "Image.fillRectangle: \(color.count) colour values for \(channels) channels")
        // Clipped spans; empty when the rectangle lies wholly outside (or has no area).
        let (y0, y1) = (max(0, y), min(height, y + h))
        let (x0, x1) = (max(0, x), min(width, x + w))
        guard y0 < y1, x0 < x1 else { return }
        for c in 0..<channels {
            for yy in y0..<y1 {
                for xx in x0..<x1 { self[c, yy, xx] = color[c] }
            }
        }
    }

    /// Draws the outline of a rectangle, `thickness` pixels wide, inside its bounds.
    public mutating func strokeRectangle(
        x: Int, y: Int, width w: Int, height h: Int, color: [Float], thickness: Int = 2
    ) {
        let t = max(1, min(thickness, min(w, h) / 2 + 1))
        fillRectangle(x: x, y: y, width: w, height: t, color: color)
        fillRectangle(x: x, y: y + h - t, width: w, height: t, color: color)
        fillRectangle(x: x, y: y, width: t, height: h, color: color)
        fillRectangle(x: x + w - t, y: y, width: t, height: h, color: color)
    }

    /// Every pixel repeated `factor × factor` times: enlarges small pictures (28 × 28) for
    /// display without inventing detail.
    public func upscaledNearest(_ factor: Int) -> Image {
        precondition(factor >= 1, "Image.upscaledNearest: factor \(factor) must be ≥ 1")
        var out = Image(width: width * factor, height: height * factor, channels: channels)
        for c in 0..<channels {
            for y in 0..<out.height {
                for x in 0..<out.width { out[c, y, x] = self[c, y / factor, x / factor] }
            }
        }
        return out
    }
}

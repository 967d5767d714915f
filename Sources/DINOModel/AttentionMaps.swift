import DINOCore
import DINOData
import Foundation

/// The pictures of `visualize_attention.py`: the last block's attention of the CLS query over
/// the patch tokens, one map per head, optionally thresholded to the patches that hold 60% of
/// the mass, upsampled by nearest neighbour to the image size.
public enum AttentionMaps {
    /// CLS-to-patch attention per head, `[H, gh, gw]`, for image `b` of the last forward
    /// (`probs` = `ViT.lastBlockAttention(queries: 1)`, shape `[B, H, 1, 1 + gh·gw]`).
    public static func clsMaps(_ probs: Tensor, image b: Int, gridRows gh: Int, gridCols gw: Int) -> [[Float]]
    {
        let heads = probs.shape[1], tokens = probs.shape[3]
        precondition(tokens == 1 + gh * gw, "AttentionMaps: \(tokens) tokens for a \(gh)×\(gw) grid")
        return (0..<heads).map { h in
            let base = (b * heads + h) * tokens
            return Array(probs.storage[(base + 1)..<(base + tokens)])  // drop the CLS column
        }
    }

    /// The official threshold: sort a map's values ascending, normalise to sum 1, keep the
    /// patches whose cumulative mass exceeds `1 - mass` (the top patches holding `mass`).
    public static func mask(_ map: [Float], mass: Float = 0.6) -> [Bool] {
        let total = map.reduce(0, +)
        let order = map.indices.sorted { map[$0] < map[$1] }
        var keep = [Bool](repeating: false, count: map.count)
        var cumulative: Float = 0
        for i in order {
            cumulative += map[i] / max(total, .leastNormalMagnitude)
            keep[i] = cumulative > 1 - mass
        }
        return keep
    }

    /// A grid picture: one row per image — the image, then each head's map as a heat map over
    /// it (patches outside the 60% mask dimmed when `threshold`, and the kept region outlined
    /// in cyan), then, when `masks` are given (one `[H·W]` 0/1 mask per image), the true object
    /// mask in green over the image.
    public static func grid(
        images: [Image], maps: [[[Float]]], gridRows gh: Int, gridCols gw: Int, patch: Int,
        threshold: Float? = 0.6, scale: Int = 4, masks: [[UInt8]]? = nil
    ) -> Image {
        let h0 = gh * patch, w0 = gw * patch
        let cellW = w0 * scale, cellH = h0 * scale, gap = 4
        let heads = maps.first?.count ?? 0
        let columns = 1 + heads + (masks == nil ? 0 : 1)
        let width = columns * (cellW + gap) + gap, height = images.count * (cellH + gap) + gap
        var out = [Float](repeating: 1, count: 3 * width * height)
        func put(_ x: Int, _ y: Int, _ rgb: (Float, Float, Float)) {
            out[y * width + x] = rgb.0
            out[width * height + y * width + x] = rgb.1
            out[2 * width * height + y * width + x] = rgb.2
        }
        for (r, image) in images.enumerated() {
            let rgb = image.rgb
            let y0 = gap + r * (cellH + gap)
            func pixel(_ c: Int, _ yy: Int, _ xx: Int) -> Float {
                rgb[c, min(yy, rgb.height - 1), min(xx, rgb.width - 1)]
            }
            for y in 0..<cellH {
                for x in 0..<cellW {
                    let sy = y / scale, sx = x / scale
                    put(gap + x, y0 + y, (pixel(0, sy, sx), pixel(1, sy, sx), pixel(2, sy, sx)))
                }
            }
            for h in 0..<heads {
                let map = maps[r][h]
                let top = max(map.max() ?? 1, .leastNormalMagnitude)
                let keep = threshold.map { mask(map, mass: $0) } ?? [Bool](repeating: true, count: map.count)
                let x0 = gap + (1 + h) * (cellW + gap)
                for y in 0..<cellH {
                    for x in 0..<cellW {
                        let sy = y / scale, sx = x / scale
                        let p = (sy / patch) * gw + (sx / patch)  // nearest-neighbour upsampling by P
                        let v = map[p] / top
                        let heat = inferno(v)
                        let g = 0.299 * pixel(0, sy, sx) + 0.587 * pixel(1, sy, sx) + 0.114 * pixel(2, sy, sx)
                        let a: Float = keep[p] ? 0.75 : 0.2  // masked-out patches fade to the image
                        if threshold != nil && keep[p]
                            && isEdge(
                                x, y, cellW: cellW, cellH: cellH, scale: scale, patch: patch,
                                gridCols: gw, keep: keep)
                        {
                            put(x0 + x, y0 + y, (0, 1, 1))
                        } else {
                            put(
                                x0 + x, y0 + y,
                                (a * heat.0 + (1 - a) * g, a * heat.1 + (1 - a) * g, a * heat.2 + (1 - a) * g)
                            )
                        }
                    }
                }
            }
            if let masks {
                let x0 = gap + (1 + heads) * (cellW + gap)
                let mask = masks[r]
                for y in 0..<cellH {
                    for x in 0..<cellW {
                        let sy = min(y / scale, image.height - 1), sx = min(x / scale, image.width - 1)
                        let g = 0.299 * pixel(0, sy, sx) + 0.587 * pixel(1, sy, sx) + 0.114 * pixel(2, sy, sx)
                        let on = mask[sy * image.width + sx] != 0
                        put(
                            x0 + x, y0 + y,
                            on ? (0.35 * g, 0.45 + 0.55 * g, 0.35 * g) : (0.6 * g, 0.6 * g, 0.6 * g))
                    }
                }
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// Whether display pixel (x, y) of a cell lies on the border of the kept patches: within
    /// `scale` display pixels of a patch edge whose neighbour is not kept (or the image edge).
    static func isEdge(
        _ x: Int, _ y: Int, cellW: Int, cellH: Int, scale: Int, patch: Int, gridCols gw: Int,
        keep: [Bool]
    ) -> Bool {
        let side = patch * scale, gh = keep.count / gw
        let py = y / side, px = x / side
        let fy = y - py * side, fx = x - px * side
        let width = max(1, scale / 2)
        func kept(_ r: Int, _ c: Int) -> Bool { r >= 0 && c >= 0 && r < gh && c < gw && keep[r * gw + c] }
        return (fy < width && !kept(py - 1, px)) || (fy >= side - width && !kept(py + 1, px))
            || (fx < width && !kept(py, px - 1)) || (fx >= side - width && !kept(py, px + 1))
    }

    /// A dark-to-bright colour ramp (black → purple → orange → yellow) for heat maps.
    static func inferno(_ t: Float) -> (Float, Float, Float) {
        let x = min(max(t, 0), 1)
        let stops: [(Float, Float, Float)] = [
            (0, 0, 0.02), (0.34, 0.06, 0.43), (0.73, 0.21, 0.33), (0.98, 0.55, 0.04), (0.99, 1, 0.64),
        ]
        let f = x * Float(stops.count - 1), i = min(Int(f), stops.count - 2), u = f - Float(i)
        let a = stops[i], b = stops[i + 1]
        return (a.0 + u * (b.0 - a.0), a.1 + u * (b.1 - a.1), a.2 + u * (b.2 - a.2))
    }
}

extension AttentionMaps {
    /// The attention grid of a checkpoint's model (a DINO teacher or a supervised backbone) on
    /// the first `images` test images of its own dataset or of `dataset`, with the true object
    /// masks as the last column when the dataset has them.
    public static func render<K: KernelSet>(
        _ kernels: K.Type, checkpoint: String, dataset: String? = nil, images count: Int,
        mass: Float?
    ) throws -> Image {
        var trained = try TrainedModel<K>(checkpoint: checkpoint)
        let test = try DataSources.load(dataset ?? trained.config.dataset, split: .test)
        let n = min(count, test.count), plane = test.height * test.width
        let masks = test.masks.map { m in (0..<n).map { Array(m[($0 * plane)..<(($0 + 1) * plane)]) } }
        return render(
            &trained.backbone, images: (0..<n).map { test.image($0) }, normalization: trained.normalization,
            mass: mass, masks: masks)
    }

    /// The attention grid of `backbone` on `images` (each a whole image, normalised here).
    public static func render<K: KernelSet>(
        _ backbone: inout ViT<K>, images: [Image], normalization: Normalization,
        mass: Float?, scale: Int = 6, masks: [[UInt8]]? = nil
    ) -> Image {
        let p = backbone.config.patchSize
        var maps: [[[Float]]] = []
        var shown: [Image] = []
        for image in images {
            let gh = image.height / p, gw = image.width / p
            let t = Evaluator().normalized(
                image.tensor.reshaped([1, image.channels, image.height, image.width]), normalization)
            _ = backbone.forward(t, training: false)
            maps.append(
                clsMaps(backbone.lastBlockAttention(queries: 1), image: 0, gridRows: gh, gridCols: gw))
            shown.append(image)
        }
        let gh = images[0].height / p, gw = images[0].width / p
        return grid(
            images: shown, maps: maps, gridRows: gh, gridCols: gw, patch: p, threshold: mass, scale: scale,
            masks: masks)
    }
}

import DINOCore
import DINOData
import Foundation

/// The official `visualize_attention.py` on one picture of any size: resize (bilinear, as
/// torchvision's `Resize`), normalise, crop to a multiple of the patch size, run the backbone,
/// and keep the last block's CLS-to-patch attention of every head.
public struct PhotoAttention: Sendable {
    /// The picture as the network saw it: resized and cropped, values in [0, 1].
    public let image: Image
    /// One map per head, `gridRows × gridCols` row-major.
    public let maps: [[Float]]
    public let gridRows: Int, gridCols: Int, patch: Int

    /// The architectures of `vision_transformer.py` by their `--arch` names: the head count is
    /// the one shape a state dict does not record.
    public static let headsOfArchitecture = ["vit_tiny": 3, "vit_small": 6, "vit_base": 12]

    /// Runs `backbone` on `picture` resized to `height × width` and normalised with `normalization`.
    /// A gray picture is repeated into RGB for a 3-channel backbone; a colour one is turned to
    /// gray (ITU-R 601 luma, as PIL's `convert("L")`) for a 1-channel one.
    public init<K: KernelSet>(
        _ backbone: inout ViT<K>, picture: Image, height: Int, width: Int, normalization: Normalization
    ) throws {
        let p = backbone.config.patchSize
        guard height >= p, width >= p else {
            throw ModelError("image size \(height)×\(width) is smaller than one \(p)×\(p) patch")
        }
        var image = picture.resized(width: width, height: height, filter: .bilinear)
        image = backbone.config.channels == 3 ? image.rgb : (image.channels == 1 ? image : image.gray)
        // The official crop: drop the last rows and columns that do not fill a patch.
        let h = height - height % p, w = width - width % p
        if h != image.height || w != image.width {
            var cropped = [Float](repeating: 0, count: image.channels * h * w)
            for c in 0..<image.channels {
                for y in 0..<h {
                    for x in 0..<w {
                        cropped[(c * h + y) * w + x] = image.pixels[(c * image.height + y) * image.width + x]
                    }
                }
            }
            image = Image(width: w, height: h, channels: image.channels, pixels: cropped)
        }
        let t = Evaluator().normalized(image.tensor.reshaped([1, image.channels, h, w]), normalization)
        _ = backbone.forward(t, training: false)
        maps = AttentionMaps.clsMaps(
            backbone.lastBlockAttention(queries: 1), image: 0, gridRows: h / p, gridCols: w / p)
        self.image = image
        gridRows = h / p
        gridCols = w / p
        self.patch = p
    }

    /// Head `j`'s map as a picture of the image's size: each patch's attention, nearest-neighbour
    /// upsampled by the patch size (the official `nn.functional.interpolate(..., mode="nearest")`),
    /// coloured black → purple → orange → yellow from 0 to the head's maximum.
    public func heatMap(head j: Int) -> Image {
        let w = image.width, h = image.height, plane = w * h
        let map = maps[j], top = max(map.max() ?? 1, .leastNormalMagnitude)
        var out = [Float](repeating: 0, count: 3 * plane)
        for y in 0..<h {
            for x in 0..<w {
                let c = AttentionMaps.inferno(map[(y / patch) * gridCols + x / patch] / top)
                out[y * w + x] = c.0
                out[plane + y * w + x] = c.1
                out[2 * plane + y * w + x] = c.2
            }
        }
        return Image(width: w, height: h, channels: 3, pixels: out)
    }

    /// Head `j`'s thresholded mask over the image (the official `display_instances`): the patches
    /// holding `mass` of the attention tinted and outlined in cyan, the rest of the image dimmed.
    public func maskPicture(head j: Int, mass: Float) -> Image {
        let w = image.width, h = image.height, plane = w * h
        let keep = AttentionMaps.mask(maps[j], mass: mass)
        let rgb = image.rgb
        var out = [Float](repeating: 0, count: 3 * plane)
        let line = min(max(1, min(w, h) / 160), max(1, patch / 4))
        for y in 0..<h {
            for x in 0..<w {
                let py = y / patch, px = x / patch, fy = y - py * patch, fx = x - px * patch
                func kept(_ r: Int, _ c: Int) -> Bool {
                    r >= 0 && c >= 0 && r < gridRows && c < gridCols && keep[r * gridCols + c]
                }
                let inside = kept(py, px)
                // On the region's border: near a side of the patch whose neighbour is not kept.
                let edge =
                    inside
                    && ((fy < line && !kept(py - 1, px)) || (fy >= patch - line && !kept(py + 1, px))
                        || (fx < line && !kept(py, px - 1)) || (fx >= patch - line && !kept(py, px + 1)))
                for c in 0..<3 {
                    let v = rgb.pixels[c * plane + y * w + x]
                    let tint: Float = c == 0 ? 0 : 1  // cyan
                    out[c * plane + y * w + x] = edge ? tint : (inside ? 0.6 * v + 0.4 * tint : 0.45 * v)
                }
            }
        }
        return Image(width: w, height: h, channels: 3, pixels: out)
    }

    /// Writes the official file set into `folder` (which must not exist yet, so an earlier
    /// picture is never overwritten): `img.png`, `attn-head{j}.png` and, with a threshold,
    /// `mask_th{mass}_head{j}.png`, plus `attention.png`, all heads on one sheet. Returns the
    /// names written.
    public func write(into folder: String, mass: Float?) throws -> [String] {
        try Files.ensureDirectory(folder)
        var names: [String] = []
        func put(_ picture: Image, _ name: String) throws {
            try picture.writePNG(folder + "/" + name)
            names.append(name)
        }
        try put(image, "img.png")
        for j in maps.indices { try put(heatMap(head: j), "attn-head\(j).png") }
        if let mass {
            for j in maps.indices { try put(maskPicture(head: j, mass: mass), "mask_th\(mass)_head\(j).png") }
        }
        let scale = max(1, 240 / max(image.width, image.height))
        try put(
            AttentionMaps.grid(
                images: [image], maps: [maps], gridRows: gridRows, gridCols: gridCols, patch: patch,
                threshold: mass, scale: scale),
            "attention.png")
        return names
    }
}

import DINOCore

extension ReferenceKernels {
    /// Bicubic resampling as the formula reads: for each output position, the 4 × 4 taps and
    /// their weights from ``Bicubic/taps(_:outSize:inSize:)``, summed in Double.
    public static func resamplePositionEmbedding(
        _ table: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into out: inout Tensor
    ) {
        let d = KernelContract.resamplePositionEmbedding(
            table, sourceGrid: g, rows: rows, cols: cols, into: out)
        for k in 0..<d { out.storage[k] = table.storage[k] }  // CLS row, unchanged
        for i in 0..<rows {
            let ty = Bicubic.taps(i, outSize: rows, inSize: g)
            for j in 0..<cols {
                let tx = Bicubic.taps(j, outSize: cols, inSize: g)
                for k in 0..<d {
                    var sum = 0.0
                    for a in 0..<4 {
                        for c in 0..<4 {
                            let source = 1 + ty.index[a] * g + tx.index[c]
                            sum += ty.weight[a] * tx.weight[c] * Double(table.storage[source * d + k])
                        }
                    }
                    out.storage[(1 + i * cols + j) * d + k] = Float(sum)
                }
            }
        }
    }

    /// The transpose: every output gradient is added to its 16 taps with the same weights
    /// (clamped taps at the border receive several contributions), in Double.
    public static func resamplePositionEmbeddingBackward(
        _ dOut: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into dTable: inout Tensor
    ) {
        let d = KernelContract.resamplePositionEmbeddingBackward(
            dOut, sourceGrid: g, rows: rows, cols: cols, into: dTable)
        var acc = dTable.storage.map(Double.init)
        for k in 0..<d { acc[k] += Double(dOut.storage[k]) }
        for i in 0..<rows {
            let ty = Bicubic.taps(i, outSize: rows, inSize: g)
            for j in 0..<cols {
                let tx = Bicubic.taps(j, outSize: cols, inSize: g)
                for a in 0..<4 {
                    for c in 0..<4 {
                        let source = 1 + ty.index[a] * g + tx.index[c], w = ty.weight[a] * tx.weight[c]
                        for k in 0..<d {
                            acc[source * d + k] += w * Double(dOut.storage[(1 + i * cols + j) * d + k])
                        }
                    }
                }
            }
        }
        dTable.storage = acc.map(Float.init)
    }
}

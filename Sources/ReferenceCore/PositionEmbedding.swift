import DINOCore

/// Checks a position-embedding resampling call and returns the width D.
func resampleShape(table: Tensor, sourceGrid g: Int, out: Tensor, rows: Int, cols: Int, _ op: String) -> Int {
    check(g >= 1 && rows >= 1 && cols >= 1, "\(op): grids must be non-empty (source \(g), target \(rows)×\(cols))")
    check(table.rows == 1 + g * g, "\(op): table \(table.shape) must have 1 + \(g)² = \(1 + g * g) rows")
    check(out.rows == 1 + rows * cols && out.cols == table.cols,
          "\(op): output \(out.shape) must have 1 + \(rows)·\(cols) = \(1 + rows * cols) rows of \(table.cols)")
    return table.cols
}

extension ReferenceKernels {
    /// Bicubic resampling as the formula reads: for each output position, the 4 × 4 taps and
    /// their weights from ``Bicubic/taps(_:outSize:inSize:)``, summed in Double.
    public static func resamplePositionEmbedding(
        _ table: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into out: inout Tensor
    ) {
        let d = resampleShape(table: table, sourceGrid: g, out: out, rows: rows, cols: cols, "resamplePositionEmbedding")
        for k in 0..<d { out.storage[k] = table.storage[k] }            // CLS row, unchanged
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
        let d = resampleShape(table: dTable, sourceGrid: g, out: dOut, rows: rows, cols: cols, "resamplePositionEmbeddingBackward")
        var acc = dTable.storage.map(Double.init)
        for k in 0..<d { acc[k] += Double(dOut.storage[k]) }
        for i in 0..<rows {
            let ty = Bicubic.taps(i, outSize: rows, inSize: g)
            for j in 0..<cols {
                let tx = Bicubic.taps(j, outSize: cols, inSize: g)
                for a in 0..<4 {
                    for c in 0..<4 {
                        let source = 1 + ty.index[a] * g + tx.index[c], w = ty.weight[a] * tx.weight[c]
                        for k in 0..<d { acc[source * d + k] += w * Double(dOut.storage[(1 + i * cols + j) * d + k]) }
                    }
                }
            }
        }
        dTable.storage = acc.map(Float.init)
    }
}

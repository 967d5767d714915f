import DINOCore

/// The 4 taps and Float32 weights of every output index along one axis.
private func axisTaps(_ outSize: Int, _ inSize: Int) -> [(index: [Int], weight: [Float])] {
    (0..<outSize).map { i in
        let t = Bicubic.taps(i, outSize: outSize, inSize: inSize)
        return (t.index, t.weight.map(Float.init))
    }
}

extension SIMDKernels {
    /// Bicubic resampling with the tap weights computed once per row and column, and the
    /// 16-tap sum done on 8 features at a time.
    /// - Costs: 16-term Float32 sums (≈ 16·u relative to the largest tap).
    /// - Twin: ``ReferenceKernels/resamplePositionEmbedding(_:sourceGrid:rows:cols:into:)``
    public static func resamplePositionEmbedding(
        _ table: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into out: inout Tensor
    ) {
        let d = KernelContract.resamplePositionEmbedding(
            table, sourceGrid: g, rows: rows, cols: cols, into: out)
        let ty = axisTaps(rows, g), tx = axisTaps(cols, g)
        table.storage.withUnsafeBufferPointer { tp in
            out.storage.withUnsafeMutableBufferPointer { op in
                let src = tp.baseAddress!, dst = op.baseAddress!
                dst.update(from: src, count: d)  // CLS row, unchanged
                for i in 0..<rows {
                    for j in 0..<cols {
                        let o = dst + (1 + i * cols + j) * d
                        var weights = [Float](repeating: 0, count: 16),
                            sources = [Int](repeating: 0, count: 16)
                        for a in 0..<4 {
                            for c in 0..<4 {
                                weights[a * 4 + c] = ty[i].weight[a] * tx[j].weight[c]
                                sources[a * 4 + c] = (1 + ty[i].index[a] * g + tx[j].index[c]) * d
                            }
                        }
                        forEachLane(
                            d,
                            { k in
                                var acc = FV()
                                for t in 0..<16 {
                                    acc = acc.addingProduct(
                                        FV(repeating: weights[t]), loadV(src + sources[t] + k))
                                }
                                storeV(acc, o + k)
                            },
                            tail: { k in
                                var acc: Float = 0
                                for t in 0..<16 { acc += weights[t] * src[sources[t] + k] }
                                o[k] = acc
                            })
                    }
                }
            }
        }
    }

    /// The transpose, a scatter-add onto the 16 taps, 8 features at a time.
    /// - Twin: ``ReferenceKernels/resamplePositionEmbeddingBackward(_:sourceGrid:rows:cols:into:)``
    public static func resamplePositionEmbeddingBackward(
        _ dOut: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into dTable: inout Tensor
    ) {
        let d = KernelContract.resamplePositionEmbeddingBackward(
            dOut, sourceGrid: g, rows: rows, cols: cols, into: dTable)
        let ty = axisTaps(rows, g), tx = axisTaps(cols, g)
        dOut.storage.withUnsafeBufferPointer { gp in
            dTable.storage.withUnsafeMutableBufferPointer { tp in
                let src = gp.baseAddress!, dst = tp.baseAddress!
                forEachLane(
                    d, { k in storeV(loadV(dst + k) + loadV(src + k), dst + k) },
                    tail: { k in dst[k] += src[k] })
                for i in 0..<rows {
                    for j in 0..<cols {
                        let o = src + (1 + i * cols + j) * d
                        for a in 0..<4 {
                            for c in 0..<4 {
                                let w = ty[i].weight[a] * tx[j].weight[c], w8 = FV(repeating: w)
                                let t = dst + (1 + ty[i].index[a] * g + tx[j].index[c]) * d
                                forEachLane(
                                    d, { k in storeV(loadV(t + k).addingProduct(w8, loadV(o + k)), t + k) },
                                    tail: { k in t[k] += w * o[k] })
                            }
                        }
                    }
                }
            }
        }
    }
}

import DINOCore

extension ReferenceKernels {
    /// `C = op(A)·op(B) (+ bias)`: for each output element, the dot product of a row of op(A)
    /// and a column of op(B), summed in Double.
    public static func matmul(
        _ a: Tensor, _ b: Tensor, layout: MatmulLayout, bias: Tensor?, accumulate: Bool,
        into c: inout Tensor
    ) {
        let (m, k, n) = KernelContract.matmul(a, b, layout: layout, bias: bias, into: c)
        // Element (i, p) of op(A) and (p, j) of op(B), whatever the storage layout.
        func opA(_ i: Int, _ p: Int) -> Float { layout == .tn ? a.storage[p * m + i] : a.storage[i * k + p] }
        func opB(_ p: Int, _ j: Int) -> Float { layout == .nt ? b.storage[j * k + p] : b.storage[p * n + j] }
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(opA(i, p)) * Double(opB(p, j)) }
                if let bias { sum += Double(bias.storage[j]) }
                if accumulate { sum += Double(c.storage[i * n + j]) }
                c.storage[i * n + j] = Float(sum)
            }
        }
    }
}

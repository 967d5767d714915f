import DINOCore
import Foundation

extension ReferenceKernels {
    public static func add(_ a: Tensor, _ b: Tensor, into c: inout Tensor) {
        KernelContract.add(a, b, into: c)
        for i in 0..<a.count { c.storage[i] = a.storage[i] + b.storage[i] }
    }

    public static func scale(_ x: Tensor, by alpha: Float, into y: inout Tensor) {
        KernelContract.scale(x, into: y)
        for i in 0..<x.count { y.storage[i] = alpha * x.storage[i] }
    }

    public static func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor) {
        KernelContract.axpy(x, y)
        for i in 0..<x.count { y.storage[i] += alpha * x.storage[i] }
    }

    public static func addRow(_ x: Tensor, _ v: Tensor, scale alpha: Float, into y: inout Tensor) {
        KernelContract.addRow(x, v, into: y)
        for i in 0..<x.rows {
            for j in 0..<x.cols {
                y.storage[i * x.cols + j] = x.storage[i * x.cols + j] + alpha * v.storage[j]
            }
        }
    }

    /// Exact GELU through Foundation's `erf`, in Double.
    public static func gelu(_ x: Tensor, into y: inout Tensor) {
        KernelContract.gelu(x, into: y)
        for i in 0..<x.count {
            let v = Double(x.storage[i])
            y.storage[i] = Float(0.5 * v * (1 + erf(v / 2.0.squareRoot())))
        }
    }

    /// The specification evaluates Φ(x) from x with erf; it does not read `output` (only its shape).
    public static func geluBackward(_ dy: Tensor, _ x: Tensor, output y: Tensor, into dx: inout Tensor) {
        KernelContract.geluBackward(dy, x, output: y, into: dx)
        for i in 0..<x.count {
            let v = Double(x.storage[i])
            let cdf = 0.5 * (1 + erf(v / 2.0.squareRoot()))  // Φ(x)
            let pdf = exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()  // φ(x)
            dx.storage[i] = Float(Double(dy.storage[i]) * (cdf + v * pdf))
        }
    }
}

import DINOCore
import Foundation

extension ReferenceKernels {
    public static func add(_ a: Tensor, _ b: Tensor, into c: inout Tensor) {
        check(a.count == b.count && c.count == a.count, "add: \(a.shape) + \(b.shape) into \(c.shape)")
        for i in 0..<a.count { c.storage[i] = a.storage[i] + b.storage[i] }
    }

    public static func scale(_ x: Tensor, by alpha: Float, into y: inout Tensor) {
        check(x.count == y.count, "scale: \(x.shape) into \(y.shape)")
        for i in 0..<x.count { y.storage[i] = alpha * x.storage[i] }
    }

    public static func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor) {
        check(x.count == y.count, "axpy: \(x.shape) into \(y.shape)")
        for i in 0..<x.count { y.storage[i] += alpha * x.storage[i] }
    }

    public static func addRow(_ x: Tensor, _ v: Tensor, scale alpha: Float, into y: inout Tensor) {
        check(v.count == x.cols && y.count == x.count, "addRow: \(x.shape) + row \(v.shape) into \(y.shape)")
        for i in 0..<x.rows {
            for j in 0..<x.cols { y.storage[i * x.cols + j] = x.storage[i * x.cols + j] + alpha * v.storage[j] }
        }
    }

    /// Exact GELU through Foundation's `erf`, in Double.
    public static func gelu(_ x: Tensor, into y: inout Tensor) {
        check(x.count == y.count, "gelu: \(x.shape) into \(y.shape)")
        for i in 0..<x.count {
            let v = Double(x.storage[i])
            y.storage[i] = Float(0.5 * v * (1 + erf(v / 2.0.squareRoot())))
        }
    }

    /// The specification evaluates Φ(x) from x with erf; it does not read `output` (only its shape).
    public static func geluBackward(_ dy: Tensor, _ x: Tensor, output y: Tensor, into dx: inout Tensor) {
        check(dy.count == x.count && y.count == x.count && dx.count == x.count,
              "geluBackward: dy \(dy.shape), x \(x.shape), y \(y.shape), dx \(dx.shape)")
        for i in 0..<x.count {
            let v = Double(x.storage[i])
            let cdf = 0.5 * (1 + erf(v / 2.0.squareRoot()))       // Φ(x)
            let pdf = exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()  // φ(x)
            dx.storage[i] = Float(Double(dy.storage[i]) * (cdf + v * pdf))
        }
    }
}

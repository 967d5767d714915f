import DINOCore
import Foundation

extension ReferenceKernels {
    /// `θt = θt·m + (1 - m)·θs`, in Float32 exactly as the official training loop writes it.
    public static func emaUpdate(_ teacher: inout Tensor, toward student: Tensor, momentum: Float) {
        KernelContract.emaUpdate(teacher, toward: student)
        for i in 0..<teacher.count {
            teacher.storage[i] = teacher.storage[i] * momentum + (1 - momentum) * student.storage[i]
        }
    }

    /// PyTorch's AdamW, element by element, with the bias corrections in Double.
    public static func adamWStep(
        _ param: inout Tensor, grad: Tensor, m: inout Tensor, v: inout Tensor, step: Int,
        hyper h: AdamWHyper
    ) {
        KernelContract.adamWStep(param, grad: grad, m: m, v: v, step: step)
        let bc1 = 1 - pow(Double(h.beta1), Double(step))
        let bc2 = 1 - pow(Double(h.beta2), Double(step))
        let stepSize = Double(h.lr) / bc1
        let bc2Root = bc2.squareRoot()
        for i in 0..<param.count {
            let g = grad.storage[i]
            param.storage[i] *= 1 - h.lr * h.weightDecay
            m.storage[i] = h.beta1 * m.storage[i] + (1 - h.beta1) * g
            v.storage[i] = h.beta2 * v.storage[i] + (1 - h.beta2) * g * g
            let denominator = Double(v.storage[i]).squareRoot() / bc2Root + Double(h.eps)
            param.storage[i] = Float(Double(param.storage[i]) - stepSize * Double(m.storage[i]) / denominator)
        }
    }

    public static func sumOfSquares(_ x: Tensor) -> Double {
        var sum = 0.0
        for value in x.storage { sum += Double(value) * Double(value) }
        return sum
    }
}

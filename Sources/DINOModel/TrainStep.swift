import DINOCore
import Foundation

/// The per-iteration settings of one DINO step (values of the schedules at this iteration).
public struct TrainStepHyper: Sendable, Equatable {
    /// Learning rate of both parameter groups (`lr[it]`).
    public var lr: Float
    /// Weight decay of the regularised group (`wd[it]`); the other group has 0.
    public var weightDecay: Float
    /// τt for this EPOCH (`teacher_temp_schedule[epoch]`).
    public var teacherTemperature: Float
    /// λ of the teacher EMA (`momentum_schedule[it]`).
    public var teacherMomentum: Float
    /// True during the first `freeze_last_layer` epochs: `last_layer.*` gets no gradient and
    /// no AdamW step at all (no decay either).
    public var freezeLastLayer: Bool
    /// Per-parameter gradient clipping threshold (3.0; 0 disables).
    public var clipGrad: Float
    /// False drops the centre from the teacher's softmax (the "sharpening only" ablation).
    public var centering: Bool
    public var beta1: Float, beta2: Float, eps: Float

    public init(
        lr: Float, weightDecay: Float, teacherTemperature: Float, teacherMomentum: Float,
        freezeLastLayer: Bool = false, clipGrad: Float = 3, centering: Bool = true, beta1: Float = 0.9,
        beta2: Float = 0.999, eps: Float = 1e-8
    ) {
        self.lr = lr
        self.weightDecay = weightDecay
        self.teacherTemperature = teacherTemperature
        self.teacherMomentum = teacherMomentum
        self.freezeLastLayer = freezeLastLayer
        self.clipGrad = clipGrad
        self.centering = centering
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
    }
}

/// What one step measured.
public struct TrainStepResult: Sendable {
    public var loss: Float
    /// Raw teacher head outputs on the two global crops, `[2B, K]`.
    public var teacherOut: Tensor
    /// Raw student head outputs on all crops, crop-major, `[V·B, K]`.
    public var studentOut: Tensor
    /// ‖grad‖₂ of every trainable parameter BEFORE clipping, in state-dict order, with names.
    public var gradNorms: [(name: String, norm: Float)]
    /// √(Σ norms²), informational (clipping is per parameter).
    public var gradTotalNorm: Float
    /// Mean teacher entropy h(P_t) and KL(P_t ‖ P_s) of this step (the paper's Fig. 7).
    public var teacherEntropy: Double
    public var kl: Double
    /// Wall-clock seconds of each phase, in order (for `dino bench train`).
    public var phases: [(String, Double)] = []
}

/// One iteration of `main_dino.py`'s `train_one_epoch`, on kernel core `K`:
///
/// 1. teacher forward on the 2 global crops (one batch `g0;g1`, no gradient, no drop path);
/// 2. student forward on all crops, grouped by resolution, head run once crop-major;
/// 3. the DINO loss with the OLD centre, then the centre update from the raw teacher outputs;
/// 4. backward into every trainable student parameter (not the frozen `weight_g`);
/// 5. per-parameter gradient norms, then per-parameter clipping `g·min(1, clip/(‖g‖ + 1e-6))`;
/// 6. last-layer freezing (gradients dropped, tensor skipped by the optimiser) when active;
/// 7. AdamW, decoupled weight decay on the regularised group only;
/// 8. teacher EMA over every parameter, frozen ones included.
///
/// The trainer loops this with its schedules; lessons call it directly.
public struct DINOTrainStep<K: KernelSet> {
    public var student: DINONetwork<K>
    public var teacher: DINONetwork<K>
    public var loss: DINOLoss
    /// AdamW moments per parameter (state-dict order) and PyTorch's per-parameter step count
    /// (a tensor skipped while frozen does not advance its count).
    public var firstMoments: [Tensor]
    public var secondMoments: [Tensor]
    public var adamSteps: [Int]

    /// A step with the teacher as an independent copy of the student (the official start) or
    /// given weights.
    public init(
        student: DINONetwork<K>, teacher: DINONetwork<K>? = nil, studentTemperature: Float = 0.1,
        centerMomentum: Float = 0.9
    ) {
        self.student = student
        self.teacher = teacher ?? student  // a value copy: never the same object (dinov2 #407)
        self.loss = DINOLoss(
            outDim: student.head.config.outDim, studentTemperature: studentTemperature,
            centerMomentum: centerMomentum)
        let params = student.allParameters
        firstMoments = params.map { Tensor(shape: $0.value.shape) }
        secondMoments = firstMoments
        adamSteps = Array(repeating: 0, count: params.count)
        precondition(
            self.teacher.parameterNames == student.parameterNames,
            "DINOTrainStep: teacher and student differ in shape")
    }

    /// Runs one iteration on `globals` (2 crops, each `[B, C, G, G]`) and `locals` (any number,
    /// each `[B, C, L, L]`).
    public mutating func step(globals: [Tensor], locals: [Tensor], hyper h: TrainStepHyper) -> TrainStepResult
    {
        precondition(globals.count == 2, "DINOTrainStep: needs exactly 2 global crops, got \(globals.count)")
        let batch = globals[0].shape[0]
        precondition(
            (globals + locals).allSatisfy { $0.shape[0] == batch },
            "DINOTrainStep: every crop needs \(batch) images")

        var clock = PhaseClock()
        // 1-3. Forward passes and the loss (centre updated after, from the raw teacher output).
        let teacherOut = teacher.forward(globals, training: false)
        clock.lap("teacher forward")
        let studentOut = student.forward(globals + locals, training: true)
        clock.lap("student forward")
        let out = loss.evaluate(
            K.self, student: studentOut, teacher: teacherOut, batch: batch,
            teacherTemperature: h.teacherTemperature, centering: h.centering)
        clock.lap("loss")

        // 4. Backward.
        student.zeroGradients()
        student.backward(out.studentGradient)
        clock.lap("backward")

        // 5-8. Norms, clipping, freezing, AdamW, in state-dict order.
        var norms: [(String, Float)] = []
        var total = 0.0
        let steps = adamSteps
        var newSteps = steps
        var m = firstMoments, v = secondMoments  // moved out (not copied): the arrays are emptied
        firstMoments = []
        secondMoments = []
        student.updateParameters { i, name, p in
            guard p.trainable else { return }
            let squares = K.sumOfSquares(p.grad)
            let norm = Float(squares.squareRoot())
            norms.append((name, norm))
            total += squares
            if h.clipGrad > 0 {
                let coefficient = h.clipGrad / (norm + 1e-6)
                if coefficient < 1 {
                    let g = p.grad
                    K.scale(g, by: coefficient, into: &p.grad)
                }
            }
            if h.freezeLastLayer && name.contains("last_layer") {
                p.zeroGradient()  // the official code sets grad = None: no step
                return
            }
            newSteps[i] = steps[i] + 1
            let hyper = AdamWHyper(
                lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps,
                weightDecay: p.regularized ? h.weightDecay : 0)
            K.adamWStep(&p.value, grad: p.grad, m: &m[i], v: &v[i], step: newSteps[i], hyper: hyper)
        }
        firstMoments = m
        secondMoments = v
        adamSteps = newSteps

        clock.lap("clip+AdamW")
        // 9. Teacher EMA toward the UPDATED student, every parameter (weight_g included).
        let studentValues = student.allParameters.map(\.value)
        teacher.updateParameters { i, _, p in
            K.emaUpdate(&p.value, toward: studentValues[i], momentum: h.teacherMomentum)
        }
        clock.lap("EMA")
        return TrainStepResult(
            loss: out.loss, teacherOut: teacherOut, studentOut: studentOut, gradNorms: norms,
            gradTotalNorm: Float(total.squareRoot()), teacherEntropy: out.teacherEntropy, kl: out.kl,
            phases: clock.laps)
    }
}

/// Wall-clock laps of a step's phases.
struct PhaseClock {
    private var last = DispatchTime.now().uptimeNanoseconds
    private(set) var laps: [(String, Double)] = []
    mutating func lap(_ name: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        laps.append((name, Double(now - last) / 1e9))
        last = now
    }
}

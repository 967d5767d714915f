import DINOCore

/// The DINO loss of `main_dino.py`'s `DINOLoss`, with its centre, for any kernel core.
///
/// Student rows are crop-major: rows `[v·B, (v+1)·B)` are crop v, crops 0 and 1 the globals.
/// The teacher has the 2 global crops only.
///
///     q_a  = softmax((T_a - c) / τt)          a ∈ {0, 1}            (no gradient)
///     ls_v = log_softmax(S_v / τs)            v ∈ 0..<V
///     loss = (1/N) Σ_a Σ_{v≠a} mean_b( -Σ_k q_a[b,k]·ls_v[b,k] ),   N = 2V - 2 pairs
///     ∂loss/∂S_v = (1 / (τs·B·N)) Σ_{a≠v} (softmax(S_v/τs) - q_a)
///     c ← c·m + mean_rows(T)·(1 - m)         after the loss, from the RAW teacher output
public struct DINOLoss: Sendable {
    /// The centre `c`, `[1, K]`, starts at 0.
    public var center: Tensor
    /// τs, 0.1 in the official code.
    public var studentTemperature: Float
    /// m of the centre EMA, 0.9.
    public var centerMomentum: Float

    public init(outDim: Int, studentTemperature: Float = 0.1, centerMomentum: Float = 0.9) {
        center = Tensor(shape: [1, outDim])
        self.studentTemperature = studentTemperature
        self.centerMomentum = centerMomentum
    }

    /// Everything one evaluation of the loss produces.
    public struct Output: Sendable {
        /// The scalar loss.
        public var loss: Float
        /// `∂loss/∂student`, same shape as the student logits.
        public var studentGradient: Tensor
        /// Teacher probabilities `q`, `[2B, K]` (after centring and sharpening).
        public var teacherProbabilities: Tensor
        /// Mean teacher entropy h(P_t) in nats (Fig. 7 of the paper).
        public var teacherEntropy: Double
        /// Mean KL(P_t ‖ P_s) over the loss's pairs: loss = h + KL pair by pair.
        public var kl: Double
    }

    /// Evaluates the loss, its gradient and (when `updateCenter`) moves the centre.
    /// - Parameters:
    ///   - student: `[V·B, K]`, crop-major raw head outputs of the student.
    ///   - teacher: `[2·B, K]`, raw head outputs of the teacher on the two global crops.
    ///   - teacherTemperature: τt for this epoch.
    ///   - centering: false drops the centre (the "sharpening only" ablation).
    public mutating func evaluate<K: KernelSet>(
        _ kernels: K.Type, student: Tensor, teacher: Tensor, batch: Int, teacherTemperature: Float,
        centering: Bool = true, updateCenter: Bool = true
    ) -> Output {
        let outDim = student.cols
        precondition(
            teacher.cols == outDim && center.count == outDim,
            "DINOLoss: student \(student.shape), teacher \(teacher.shape), centre \(center.shape)")
        precondition(
            batch > 0 && teacher.rows == 2 * batch && student.rows % batch == 0 && student.rows >= 2 * batch,
            "DINOLoss: teacher needs 2·B = \(2 * batch) rows and student a multiple of B ≥ 2B; got \(teacher.rows) and \(student.rows)"
        )
        let crops = student.rows / batch
        let pairs = 2 * crops - 2

        // Teacher: centre (with the OLD centre), sharpen, softmax.
        var centred = teacher
        if centering { K.addRow(teacher, center, scale: -1, into: &centred) }
        var q = Tensor(shape: teacher.shape)
        K.softmax(centred, temperature: teacherTemperature, into: &q)
        var teacherEntropyRows = Tensor(shape: [teacher.rows])
        K.rowEntropy(q, into: &teacherEntropyRows)

        // By linearity, the pairs of student crop v sum to one cross-entropy against the sum
        // of its teachers T_v: q_1 for v = 0, q_0 for v = 1, q_0 + q_1 for every local crop.
        // So one [V·B, K] target matrix replaces 2V-2 pair loops:
        //     loss = (1/(B·N)) Σ_rows H(T_v, ls_v),   ∂/∂S_v = (n_v·p_v - T_v) / (τs·B·N),
        // with n_v = Σ_k T_v = the number of teachers of crop v (1 or 2), which is exactly what
        // the fused kernel computes: H per row, and α·(n·softmax - T) with α = 1/(τs·B·N).
        let rowLength = batch * outDim
        var target = Tensor(shape: student.shape)
        target.storage.withUnsafeMutableBufferPointer { t in
            q.storage.withUnsafeBufferPointer { qp in
                let q0 = qp.baseAddress!, q1 = q0 + rowLength
                t.baseAddress!.update(from: q1, count: rowLength)  // crop 0 ← teacher 1
                (t.baseAddress! + rowLength).update(from: q0, count: rowLength)  // crop 1 ← teacher 0
                for v in 2..<crops {
                    let tv = t.baseAddress! + v * rowLength
                    for i in 0..<rowLength { tv[i] = q0[i] + q1[i] }
                }
            }
        }
        var rowsCE = Tensor(shape: [student.rows]), grad = Tensor(shape: student.shape)
        K.softmaxCrossEntropy(
            student, temperature: studentTemperature, target: target,
            gradientScale: 1 / (studentTemperature * Float(batch) * Float(pairs)), loss: &rowsCE,
            gradient: &grad)
        let ceTotal = rowsCE.storage.reduce(0.0) { $0 + Double($1) }
        // Each teacher crop a pairs with V-1 student crops: Σ_pairs Σ_b h_a[b] = (V-1)·Σ h.
        let entropyTotal = teacherEntropyRows.storage.reduce(0.0) { $0 + Double($1) }
        let total = ceTotal / Double(batch)
        let klTotal = (ceTotal - Double(crops - 1) * entropyTotal) / Double(batch)
        if updateCenter {
            var batchCenter = Tensor(shape: [1, outDim])
            K.columnMeans(teacher, into: &batchCenter)
            let m = centerMomentum
            for k in 0..<outDim {
                center.storage[k] = center.storage[k] * m + batchCenter.storage[k] * (1 - m)
            }
        }
        return Output(
            loss: Float(total / Double(pairs)), studentGradient: grad, teacherProbabilities: q,
            teacherEntropy: Stats.mean(teacherEntropyRows), kl: klTotal / Double(pairs))
    }
}

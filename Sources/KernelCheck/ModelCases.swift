import DINOCore

extension ParityCase {
    /// Parity cases of the `ModelKernels` operations (attention, patch embedding, …).
    public static let modelCases: [ParityCase] = []
}

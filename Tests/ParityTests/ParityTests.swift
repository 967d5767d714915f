import DINOCore
import KernelCheck
import Testing

/// Every case of the parity registry, on one and two SIMD threads (the same cases `dino check` prints).
@Suite("reference vs SIMD")
struct ParityTests {
    @Test(arguments: ParityCase.all)
    func agreesOnOneThread(_ parityCase: ParityCase) {
        let report = compare(parityCase, threads: 1)
        #expect(report.passed, "\(report)")
    }

    @Test(arguments: ParityCase.all)
    func agreesOnTwoThreads(_ parityCase: ParityCase) {
        let report = compare(parityCase, threads: 2)
        #expect(report.passed, "\(report)")
    }

    /// The comparison itself must be able to fail: a deliberately wrong candidate is caught.
    @Test func detectsAWrongResult() {
        let reference = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        var wrong = reference
        wrong[1, 2] += 1e-3
        let c = compareOutput("C", reference: reference, candidate: wrong, tolerance: .elementwise)
        #expect(!c.passed)
        #expect(c.worstIndex == [1, 2])
        let shape = compareOutput("C", reference: reference, candidate: reference.reshaped([3, 2]), tolerance: .elementwise)
        #expect(!shape.passed && shape.shapeError != nil)
        var nan = reference
        nan[0, 0] = .nan
        #expect(!compareOutput("C", reference: reference, candidate: nan, tolerance: .elementwise).passed)
    }
}

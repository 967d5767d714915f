import Foundation

/// A contiguous, row-major Float32 array with a shape.
///
/// Every kernel sees a tensor as a matrix: `rows` is the product of all leading dimensions and
/// `cols` is the last one, so a batch of token sequences `[B, N, D]` is the matrix `[B·N, D]`.
/// Storage is a Swift array (copy-on-write): passing a tensor to a kernel never copies it, and
/// writing into an `inout` output whose storage is uniquely referenced never copies either.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public var storage: [Float]

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` holding `data` (row-major, last index fastest).
    public init(shape: [Int], _ data: [Float]) {
        precondition(
            shape.reduce(1, *) == data.count,
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.storage = data
    }

    /// A `rows × cols` matrix.
    public init(rows: Int, cols: Int, _ data: [Float]) { self.init(shape: [rows, cols], data) }
    public static func zeros(_ shape: Int...) -> Tensor { Tensor(shape: shape) }

    public var count: Int { storage.count }
    /// Product of the leading dimensions (1 for a vector).
    public var rows: Int { shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *) }
    /// The last dimension (1 for a scalar).
    public var cols: Int { shape.last ?? 1 }

    public subscript(i: Int, j: Int) -> Float {
        get { storage[i * cols + j] }
        set { storage[i * cols + j] = newValue }
    }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage)
    }

    /// Changes the shape in place, keeping storage, when the element count is unchanged;
    /// otherwise reallocates (used by workspaces that are reused across batch sizes).
    public mutating func resize(to newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n != storage.count { storage = [Float](repeating: 0, count: n) }
        shape = newShape
    }

    /// Row `i` as a new array (for printing and tests, not for hot paths).
    public func row(_ i: Int) -> [Float] { Array(storage[i * cols..<(i + 1) * cols]) }

    public var description: String {
        let head = storage.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(head)\(count > 8 ? ", …" : "")]"
    }
}

extension Tensor {
    /// Rows `range` of the matrix view, as a new `[range.count, cols]` tensor (a copy).
    public func rowSlice(_ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rowSlice \(range) of \(rows) rows")
        return Tensor(
            shape: [range.count, cols], Array(storage[range.lowerBound * cols..<range.upperBound * cols]))
    }

    /// Writes `block` into rows starting at `row`, overwriting (or adding, when `accumulate`).
    public mutating func setRows(_ row: Int, _ block: Tensor, accumulate: Bool = false) {
        precondition(
            block.cols == cols && row + block.rows <= rows,
            "setRows: \(block.shape) at row \(row) of \(shape)")
        let base = row * cols
        for i in 0..<block.count {
            storage[base + i] = accumulate ? storage[base + i] + block.storage[i] : block.storage[i]
        }
    }

    /// Stacks matrices with equal column counts along the rows.
    public static func concatenateRows(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty, "concatenateRows: nothing to concatenate")
        let cols = parts[0].cols
        precondition(
            parts.allSatisfy { $0.cols == cols },
            "concatenateRows: column counts differ \(parts.map(\.shape))")
        return Tensor(shape: [parts.reduce(0) { $0 + $1.rows }, cols], parts.flatMap(\.storage))
    }
}

import Foundation

/// Why a benchmark did not run (`usage`: a bad setting, named; the CLI reports it as a usage
/// error) or stopped (`failed`: parity failed, the libraries disagree).
public struct BenchmarkError: Error, CustomStringConvertible {
    public enum Kind: Sendable { case usage, failed }
    public var kind: Kind
    public var description: String

    public static func usage(_ message: String) -> BenchmarkError {
        BenchmarkError(kind: .usage, description: message)
    }
    public static func failed(_ message: String) -> BenchmarkError {
        BenchmarkError(kind: .failed, description: message)
    }
}

/// A comma-separated `--threads` list such as "1,2" (benchmarks and checks run once per entry).
/// Every entry must be a thread count in 1...64: "1,x" is refused, not read as "1".
public func threadList(_ text: String) throws -> [Int] {
    let counts = text.split(separator: ",", omittingEmptySubsequences: false)
        .map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !counts.isEmpty, counts.allSatisfy({ $0.map { (1...64).contains($0) } ?? false }) else {
        throw BenchmarkError.usage(
            "--threads: expected a list of thread counts in 1...64 like 1,2, got '\(text)'")
    }
    return counts.map { $0! }
}

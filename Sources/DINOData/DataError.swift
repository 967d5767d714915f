/// Every way an input file can be wrong, each naming the file and the problem, so a user sees
/// "fashion-mnist/train-images-idx3-ubyte.gz: truncated: header says 60000 images, file holds
/// 59871" instead of a crash or a silent wrong result.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var problem: String
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "\(path): \(problem)" }
}

import Dispatch
import Foundation
import Synchronization

/// How many threads the SIMD core may use (by default every core of the machine). The reference
/// core ignores it. Kernels read it on every call.
///
/// Two layers: the process-wide setting (`Threads.count = n`, once at start-up from `--threads`),
/// and a scoped one (`Threads.with(n) { … }`), a task-local that holds for the closure and
/// everything it calls on the same task, whatever other tests or tasks set meanwhile. Code that
/// must run on a given thread count (a parity case, a test) uses the scoped form, so parallel
/// tests cannot change each other's count.
public enum Threads {
    /// The cores this process may run on (at most 64), the default thread count.
    public static let machineCores = max(1, min(64, ProcessInfo.processInfo.activeProcessorCount))
    nonisolated(unsafe) private static var global: Int = machineCores
    @TaskLocal static var scoped: Int?

    /// The thread count in force here: the innermost ``with(_:_:)``, else the process-wide one.
    /// Setting it changes the process-wide count (start-up code).
    public static var count: Int {
        get { scoped ?? global }
        set { global = newValue }
    }

    /// Runs `body` with `threads` SIMD threads, for this task only.
    public static func with<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(threads, operation: body)
    }
    static let usePool = getenv("DINO_DISPATCH") == nil

    /// Runs `body(chunk)` for `chunks` chunks over up to `count` threads; returns when all are
    /// done. With one thread or one chunk it runs inline. Otherwise the chunks go to the
    /// calling thread and `count - 1` persistent workers of ``WorkerPool`` (which spin briefly
    /// between calls, so a training step's thousands of short kernels do not each pay a thread
    /// wake-up); a call made while the pool is busy (from inside a chunk, or from a second
    /// thread) uses Dispatch instead. `DINO_DISPATCH=1` in the environment makes every call use
    /// Dispatch, to compare the two (`Walkthroughs/00-kernels.md` quotes such a comparison).
    @inline(__always)
    public static func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || count <= 1 {
            for c in 0..<chunks { body(c) }
        } else if !usePool || !WorkerPool.shared.run(chunks, helpers: count - 1, body) {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }
}

/// Persistent worker threads for ``Threads/parallelFor(_:_:)``.
///
/// One job at a time: the caller publishes the job (the body and its chunk count) by bumping
/// `generation`, then it and the workers claim chunk indices from one atomic counter until none
/// are left, and the caller waits until every claimed chunk has finished. A worker that finds no
/// new generation spins for about `spinLimit` polls (tens of microseconds), then sleeps on a
/// condition variable until the next job. `concurrentPerform` instead wakes a Dispatch thread
/// with a futex on every call, which costs more than the whole of many small kernels.
///
/// The body is a non-escaping closure lent to the workers with `withoutActuallyEscaping`; it is
/// handed back before `run` returns: the caller closes the job, then waits until no worker is
/// `inside` (workers enter, then check `open`, both sequentially consistent, so a worker either
/// sees the job closed or is counted), and only then clears it.
public final class WorkerPool: @unchecked Sendable {
    public static let shared = WorkerPool()

    private let generation = Atomic<Int>(0)
    private let nextChunk = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let inside = Atomic<Int>(0)
    private let open = Atomic<Bool>(false)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let condition = NSCondition()
    /// Written only by the caller holding `busy`, with no worker inside.
    private var body: ((Int) -> Void)?
    private var chunks = 0
    private var helpers = 0
    /// Started workers; only the caller holding `busy` adds to them.
    private var started = 0

    /// Polls of `generation` before a worker goes to sleep (about 20-50 µs here).
    private let spinLimit = 20_000

    /// Runs the job on the calling thread and up to `helpers` workers. Returns false (doing
    /// nothing) when the pool is already running a job, so the caller can fall back.
    public func run(_ chunks: Int, helpers: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        while started < helpers {
            let index = started
            let thread = Thread { [unowned self] in self.work(index) }
            thread.name = "dino-worker-\(index)"
            thread.start()
            started += 1
        }
        withoutActuallyEscaping(body) { lent in
            while inside.load(ordering: .sequentiallyConsistent) != 0 {}
            self.body = lent
            self.chunks = chunks
            self.helpers = helpers
            nextChunk.store(0, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            open.store(true, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            claim(lent, chunks)
            while finished.load(ordering: .acquiring) < chunks {}
            open.store(false, ordering: .sequentiallyConsistent)
            while inside.load(ordering: .sequentiallyConsistent) != 0 {}
            self.body = nil
        }
        return true
    }

    /// Claims and runs chunks until none are left.
    @inline(__always)
    private func claim(_ body: (Int) -> Void, _ chunks: Int) {
        while true {
            let c = nextChunk.add(1, ordering: .relaxed).oldValue
            if c >= chunks { return }
            body(c)
            finished.add(1, ordering: .releasing)
        }
    }

    private func work(_ index: Int) {
        var seen = 0
        while true {
            var polls = 0
            while generation.load(ordering: .acquiring) == seen {
                polls += 1
                if polls < spinLimit { continue }
                condition.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                condition.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            inside.add(1, ordering: .sequentiallyConsistent)
            if open.load(ordering: .sequentiallyConsistent), index < helpers, let body {
                claim(body, chunks)
            }
            inside.subtract(1, ordering: .sequentiallyConsistent)
        }
    }
}

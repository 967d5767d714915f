import DINOCore
import Foundation
import Synchronization
import Testing

/// `Threads.parallelFor` runs every chunk exactly once, whatever the chunk count, also when called
/// from inside a chunk or from two threads at once (those calls fall back to Dispatch).
@Suite("worker pool", .serialized)
struct WorkerPoolTests {
    final class Counts: Sendable {
        let hits: Mutex<[Int]>
        init(_ n: Int) { hits = Mutex(Array(repeating: 0, count: n)) }
        func hit(_ i: Int) { hits.withLock { $0[i] += 1 } }
        var all: [Int] { hits.withLock { $0 } }
    }

    @Test func everyChunkRunsOnceOverManyCalls() {
        for threads in [2, 3] {
            Threads.with(threads) {
                for call in 0..<2000 {
                    let chunks = 1 + call % 17
                    let counts = Counts(chunks)
                    Threads.parallelFor(chunks) { counts.hit($0) }
                    #expect(
                        counts.all == Array(repeating: 1, count: chunks),
                        "call \(call), \(chunks) chunks on \(threads) threads")
                }
            }
        }
    }

    @Test func nestedAndConcurrentCallsStillRunEveryChunk() {
        Threads.with(2) {
            let outer = Counts(4), inner = Counts(4 * 5)
            Threads.parallelFor(4) { i in
                outer.hit(i)
                Threads.parallelFor(5) { j in inner.hit(i * 5 + j) }
            }
            #expect(outer.all == Array(repeating: 1, count: 4))
            #expect(inner.all == Array(repeating: 1, count: 20))
            // Two threads calling at once: one gets the pool, the other Dispatch.
            let a = Counts(300 * 3), b = Counts(300 * 3)
            let group = DispatchGroup()
            for (counts, queue) in [(a, DispatchQueue(label: "a")), (b, DispatchQueue(label: "b"))] {
                queue.async(group: group) {
                    for call in 0..<300 { Threads.parallelFor(3) { counts.hit(call * 3 + $0) } }
                }
            }
            group.wait()
            #expect(a.all.allSatisfy { $0 == 1 } && b.all.allSatisfy { $0 == 1 })
        }
    }

    /// The chunks really run on more than one thread (the pool is not silently serial).
    @Test func twoThreadsAreUsed() {
        Threads.with(2) {
            let seen = Mutex<Set<String>>([])
            for _ in 0..<200 {
                Threads.parallelFor(2) { _ in
                    let name = "\(pthread_self())"
                    seen.withLock { _ = $0.insert(name) }
                    usleep(200)  // long enough that one thread cannot take both chunks
                }
            }
            #expect(seen.withLock { $0.count } >= 2)
        }
    }

    /// A scoped count holds inside its closure whatever the process-wide count is, and nests.
    @Test func scopedCountHoldsAndNests() {
        let global = Threads.count
        Threads.with(1) {
            #expect(Threads.count == 1)
            Threads.with(3) { #expect(Threads.count == 3) }
            #expect(Threads.count == 1)
        }
        #expect(Threads.count == global)
    }
}

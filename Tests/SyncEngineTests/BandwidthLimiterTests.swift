import Foundation
import XCTest
@testable import SyncEngine

/// A clock that moves only when a limiter sleeps. Shared by real threads: each thread wakes at the time
/// it last read plus what it slept, so threads sleeping side by side do not add their sleeps up.
private final class FakeTime: @unchecked Sendable {
    let start = Date(timeIntervalSince1970: 1_700_000_000)
    private let lock = NSLock()
    private var elapsed: TimeInterval = 0
    private var sleeps = 0
    private var lastRead: [ObjectIdentifier: TimeInterval] = [:]

    var seconds: TimeInterval { lock.withLock { elapsed } }
    var sleepCount: Int { lock.withLock { sleeps } }

    func now() -> Date {
        lock.withLock {
            lastRead[ObjectIdentifier(Thread.current)] = elapsed
            return start.addingTimeInterval(elapsed)
        }
    }

    func sleep(_ interval: TimeInterval) {
        lock.withLock {
            sleeps += 1
            let from = lastRead[ObjectIdentifier(Thread.current)] ?? elapsed
            elapsed = max(elapsed, from + interval)
        }
    }

    func limiter(_ limit: @escaping @Sendable (TimeInterval) -> Int64?) -> BandwidthLimiter {
        BandwidthLimiter(limit: { [start] date in limit(date.timeIntervalSince(start)) },
                         clock: { self.now() }, sleep: { self.sleep($0) })
    }
}

final class BandwidthLimiterTests: XCTestCase {
    let kib: Int64 = 1 << 10
    let mib: Int64 = 1 << 20

    func testTenMiBAtTwoMiBPerSecondTakesAboutFiveSeconds() {
        let time = FakeTime()
        let limiter = time.limiter { _ in 2 << 20 }
        for _ in 0..<(10 * mib / (64 * kib)) { limiter.consume(64 * kib) }
        // The first quarter second (512 KiB) goes at once; the rest at 2 MiB/s.
        XCTAssertGreaterThanOrEqual(time.seconds, 4.5)
        XCTAssertLessThanOrEqual(time.seconds, 5.5)
    }

    func testThreadsShareOneBudget() {
        let time = FakeTime()
        let limiter = time.limiter { _ in 2 << 20 }
        let threads = 4
        let done = DispatchGroup()
        for _ in 0..<threads {
            done.enter()
            Thread {
                for _ in 0..<(10 * self.mib / Int64(threads) / (64 * self.kib)) { limiter.consume(64 * self.kib) }
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        // Four budgets of 2 MiB/s would finish 10 MiB in about 1.2 s.
        XCTAssertGreaterThanOrEqual(time.seconds, 4.5)
        XCTAssertLessThanOrEqual(time.seconds, 5.5)
    }

    func testTimetableSwitchesRateAtItsMoment() {
        let time = FakeTime()
        let limiter = time.limiter { t in t < 2 ? 1 << 20 : 4 << 20 }
        var sentAt: [(time: TimeInterval, bytes: Int64)] = []
        var total: Int64 = 0
        while time.seconds < 3 {
            limiter.consume(64 * kib)
            total += 64 * kib
            sentAt.append((time.seconds, total))
        }
        let byTwo = sentAt.last { $0.time <= 2 }!.bytes
        let byThree = sentAt.last { $0.time <= 3 }!.bytes
        // 1 MiB/s for two seconds plus the 256 KiB burst, then 4 MiB/s.
        XCTAssertGreaterThanOrEqual(byTwo, 2 * mib)
        XCTAssertLessThanOrEqual(byTwo, 2 * mib + 384 * kib)
        XCTAssertGreaterThanOrEqual(byThree - byTwo, 4 * mib - 256 * kib)
        XCTAssertLessThanOrEqual(byThree - byTwo, 4 * mib + 256 * kib)
    }

    func testUnlimitedNeverSleeps() {
        let time = FakeTime()
        let limiter = time.limiter { _ in nil }
        for _ in 0..<1000 { limiter.consume(mib) }
        XCTAssertEqual(time.sleepCount, 0)
        XCTAssertNil(limiter.currentLimit)
    }

    func testZeroMeansUnlimitedLikeRclone() {
        let time = FakeTime()
        let limiter = time.limiter { _ in 0 }
        for _ in 0..<100 { limiter.consume(mib) }
        XCTAssertEqual(time.sleepCount, 0)
        XCTAssertNil(limiter.currentLimit)
    }

    func testReloadLiftsTheLimitForAThreadAlreadyWaiting() {
        let limiter = BandwidthLimiter(limit: { _ in 64 << 10 })
        limiter.consume(64 * mib)  // leaves a debt of about 1000 s
        let finished = DispatchSemaphore(value: 0)
        Thread {
            limiter.consume(1024)
            finished.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.2)
        limiter.setLimit { _ in nil }
        XCTAssertEqual(finished.wait(timeout: .now() + 2), .success)
        XCTAssertNil(limiter.currentLimit)
    }

    func testCurrentLimitFollowsTheClock() {
        let time = FakeTime()
        let limiter = time.limiter { t in t < 1 ? 8 << 20 : 2 << 20 }
        XCTAssertEqual(limiter.currentLimit, 8 << 20)
        time.sleep(1)
        XCTAssertEqual(limiter.currentLimit, 2 << 20)
    }

    /// Calls `callback` the way HTTPTransport's read callback does: before each 64 KiB buffer, never after
    /// the last one (curl stops asking once Content-Length bytes are out).
    private func sendLikeCurl(_ length: Int64, _ callback: (Int64) -> Bool) {
        var sent: Int64 = 0
        while sent < length {
            XCTAssertTrue(callback(sent))
            sent += min(64 * kib, length - sent)
        }
    }

    func testProgressCallbackWithBodyLengthPaysForWholeRequests() {
        let time = FakeTime()
        let limiter = time.limiter { _ in 2 << 20 }
        for _ in 0..<10 { sendLikeCurl(mib, limiter.progressCallback(bodyLength: mib)) }
        limiter.consume(1)  // settles the debt of the last buffer
        // 10 MiB less the 512 KiB burst, at 2 MiB/s.
        XCTAssertEqual(time.seconds, 4.75, accuracy: 0.01)
    }

    func testProgressCallbackWithoutLengthMissesOnlyTheLastBufferOfEachRequest() {
        let time = FakeTime()
        let limiter = time.limiter { _ in 2 << 20 }
        for _ in 0..<10 { sendLikeCurl(mib, limiter.progressCallback()) }
        limiter.consume(1)
        XCTAssertEqual(time.seconds, Double(10 * (mib - 64 * kib) - 512 * kib) / Double(2 * mib), accuracy: 0.01)
    }

    func testProgressCallbackChargesARetriedRequestAgain() {
        let time = FakeTime()
        let limiter = time.limiter { _ in 1 << 20 }
        let callback = limiter.progressCallback(bodyLength: mib)
        sendLikeCurl(mib / 2, callback)  // cut off half way
        sendLikeCurl(mib, callback)      // the client's retry reuses the callback
        limiter.consume(1)
        // 1.5 MiB less the 256 KiB burst, at 1 MiB/s.
        XCTAssertEqual(time.seconds, 1.25, accuracy: 0.01)
    }

    func testRealTimeSanity() {
        let limiter = BandwidthLimiter(limit: { _ in 4 << 20 })
        let started = Date()
        sendLikeCurl(2 * mib, limiter.progressCallback(bodyLength: 2 * mib))
        let seconds = Date().timeIntervalSince(started)
        // 2 MiB less the 1 MiB burst at 4 MiB/s is 0.25 s (less the last buffer's debt).
        XCTAssertGreaterThanOrEqual(seconds, 0.15)
        XCTAssertLessThanOrEqual(seconds, 5)
    }
}

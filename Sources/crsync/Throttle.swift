import SyncEngine

/// The upload throttle for a bandwidth schedule: one budget shared by every worker, re-reading the
/// timetable as time passes (so "08:00,2M 19:00,10M" switches at its minute without a restart). Nil when
/// unlimited, so no time is spent on it.
func limiter(for schedule: BandwidthSchedule) -> (@Sendable (Int64) -> Void)? {
    guard schedule != .unlimited else { return nil }
    let limiter = BandwidthLimiter(limit: { schedule.limit(at: $0) })
    return { limiter.consume($0) }
}

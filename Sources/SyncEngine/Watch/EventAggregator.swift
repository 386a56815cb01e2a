/// Keeps the watcher's events in the order they happened while the second half of a move is awaited.
///
/// inotify reports a rename as IN_MOVED_FROM and IN_MOVED_TO sharing a cookie. A move out of the root has
/// no IN_MOVED_TO, so an unpaired IN_MOVED_FROM is held for `moveWindow` and then becomes a removal.
/// Events that arrive meanwhile queue behind it rather than overtake it: `mv a x; touch a` (x outside the
/// root) must reach the caller as "a removed", then "a changed", not the other way round.
struct EventAggregator: Sendable {
    /// How long an IN_MOVED_FROM waits for its IN_MOVED_TO. The kernel queues the two back to back; the
    /// wait only covers a read(2) that ends between them.
    static let moveWindow: Duration = .milliseconds(100)

    struct HeldMove: Equatable, Sendable {
        var cookie: UInt32
        var from: [UInt8]
        var isDirectory: Bool
        var deadline: ContinuousClock.Instant
    }

    private enum Slot: Sendable {
        case event(WatchEvent)
        case held(HeldMove)
    }

    private var slots: [Slot] = []

    /// Queues `event`. A `.changed` identical (byte for byte) to the event just before it is dropped: a
    /// large write is dozens of IN_MODIFY in a row, and one report says the same.
    mutating func append(_ event: WatchEvent) {
        if case .changed(let path) = event, case .event(.changed(let previous))? = slots.last,
           Array(previous.utf8) == Array(path.utf8) {
            return
        }
        slots.append(.event(event))
    }

    mutating func append(contentsOf events: [WatchEvent]) {
        for event in events { append(event) }
    }

    /// Holds an IN_MOVED_FROM in its place in the queue until `resolve` or `expire`.
    mutating func hold(_ move: HeldMove) {
        slots.append(.held(move))
    }

    /// The held IN_MOVED_FROM with `cookie`, if it is still waiting.
    func heldMove(cookie: UInt32) -> HeldMove? {
        for case .held(let move) in slots where move.cookie == cookie { return move }
        return nil
    }

    /// Puts `events` where the held move with `cookie` was (nothing, if `events` is empty).
    mutating func resolve(cookie: UInt32, with events: [WatchEvent]) {
        guard let index = slots.firstIndex(where: { if case .held(let move) = $0 { move.cookie == cookie } else { false } })
        else { return }
        slots.replaceSubrange(index...index, with: events.map(Slot.event))
    }

    /// Turns every held move whose window has passed into a removal, and returns them so that the watcher
    /// can drop the watches of directories that left the root.
    mutating func expire(at now: ContinuousClock.Instant) -> [HeldMove] {
        var expired: [HeldMove] = []
        for index in slots.indices {
            if case .held(let move) = slots[index], move.deadline <= now {
                expired.append(move)
                slots[index] = .event(.removed(String(decoding: move.from, as: UTF8.self), isDirectory: move.isDirectory))
            }
        }
        return expired
    }

    /// When the earliest held move expires; nil when none is held.
    func nextDeadline() -> ContinuousClock.Instant? {
        slots.compactMap { if case .held(let move) = $0 { move.deadline } else { nil } }.min()
    }

    /// The events before the first held move, in order; they leave the queue.
    mutating func takeReady() -> [WatchEvent] {
        let end = slots.firstIndex { if case .held = $0 { true } else { false } } ?? slots.endIndex
        let ready = slots[..<end].map { slot -> WatchEvent in
            guard case .event(let event) = slot else { fatalError("held moves end the ready prefix") }
            return event
        }
        slots.removeSubrange(..<end)
        return ready
    }
}

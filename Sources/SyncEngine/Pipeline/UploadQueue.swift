import Foundation

/// The pool's in-memory mirror of the journal's upload queue: at most one item per path, in two FIFO
/// lanes (small and large files) plus the items not yet due. Every operation a worker does per file is
/// O(1) or bounded by `window`, so a queue of a million files costs no more per file than one of ten.
struct UploadQueue<Payload> {
    struct Entry {
        var key: PathKey
        var due: Date
        var large: Bool
        var payload: Payload
        var generation = 0  // set by `put`: tells a lane slot of this item from a stale one
    }

    /// How many of each lane's first items the fairness rule looks at.
    let window = 64
    private(set) var entries: [PathKey: Entry] = [:]
    private var small = Lane()
    private var large = Lane()
    private var delayed: [PathKey: Int] = [:]
    private var nextGeneration = 0

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    func contains(_ key: PathKey) -> Bool { entries[key] != nil }

    /// Adds `entry`, replacing any queued item of the same path.
    mutating func put(_ entry: Entry, now: Date) {
        var entry = entry
        nextGeneration += 1
        entry.generation = nextGeneration
        entries[entry.key] = entry
        if entry.due > now {
            delayed[entry.key] = entry.generation
        } else {
            delayed[entry.key] = nil
            entry.large ? large.push(entry.key, entry.generation) : small.push(entry.key, entry.generation)
        }
    }

    @discardableResult
    mutating func remove(_ key: PathKey) -> Entry? {
        delayed[key] = nil
        return entries.removeValue(forKey: key)  // its lane slot goes stale and is skipped
    }

    mutating func removeAll(where predicate: (PathKey) -> Bool) {
        for key in entries.keys where predicate(key) { remove(key) }
    }

    /// Moves items whose time has come into their lanes; returns when the next delayed one is due.
    mutating func promote(now: Date) -> Date? {
        var next: Date?
        for (key, generation) in delayed {
            guard let entry = entries[key], entry.generation == generation else { delayed[key] = nil; continue }
            if entry.due <= now {
                delayed[key] = nil
                entry.large ? large.push(key, generation) : small.push(key, generation)
            } else {
                next = min(next ?? entry.due, entry.due)
            }
        }
        return next
    }

    /// The first `window` live items of each lane, oldest first, as the fairness rule sees them.
    mutating func candidates() -> [DispatchCandidate] {
        small.live(window, in: entries) + large.live(window, in: entries)
    }

    /// A lane: keys in arrival order with their generation; stale slots are dropped as they reach the head.
    private struct Lane {
        var slots: [(key: PathKey, generation: Int)] = []
        var head = 0

        mutating func push(_ key: PathKey, _ generation: Int) { slots.append((key, generation)) }

        mutating func live(_ limit: Int, in entries: [PathKey: Entry]) -> [DispatchCandidate] {
            /// The slot's entry if the slot is its current one: one lookup serves the check and the candidate.
            func liveEntry(_ slot: (key: PathKey, generation: Int)) -> Entry? {
                guard let entry = entries[slot.key], entry.generation == slot.generation else { return nil }
                return entry
            }
            while head < slots.count, liveEntry(slots[head]) == nil { head += 1 }
            if head > 1024, head * 2 > slots.count {
                slots.removeFirst(head)
                head = 0
            }
            var found: [DispatchCandidate] = []
            found.reserveCapacity(min(limit, slots.count - head))
            var index = head
            while index < slots.count, found.count < limit {
                if let entry = liveEntry(slots[index]) {
                    found.append(DispatchCandidate(key: slots[index].key, due: entry.due, large: entry.large))
                }
                index += 1
            }
            return found
        }
    }
}

/// Fault injection for chunk requests (`POST /__dev/faults`, not part of Cloudreve): one-shot faults
/// queued in `next` are used first, then the configured rates, drawn from a seeded generator so a
/// failing run can be replayed.
struct FaultPlan {
    enum Fault: Equatable {
        /// Close the connection once this many body bytes arrived (they are written in place, as a
        /// real server leaves them). At or past the body's end the request is processed in full and
        /// only the answer is lost. nil picks a random point inside the body.
        case cut(afterBytes: Int64?)
        /// Answer code -1 (unclassified) after draining the body, writing nothing.
        case minus1
        /// Answer 50004 after draining the body, writing nothing.
        case ioError
        /// Answer normally, this many milliseconds late.
        case delay(milliseconds: Int)
    }

    var cutRate = 0.0
    var minus1Rate = 0.0
    var ioErrorRate = 0.0
    var delayMilliseconds = 0
    /// OSS and OBS completions (ProviderCompletion.swift) whose callback to Cloudreve cannot connect, as
    /// when the site URL is not reachable from the storage: the storage answers 203 CallbackFailed.
    var callbackUnreachable = false
    var next: [Fault] = []
    private var random = SplitMix64(seed: 0)

    init() {}

    /// Reads the control's JSON; `{}` clears everything.
    init(json: JSON) throws {
        cutRate = json["cut_rate"].flatMap(FaultPlan.double) ?? 0
        minus1Rate = json["minus1_rate"].flatMap(FaultPlan.double) ?? 0
        ioErrorRate = json["io_error_rate"].flatMap(FaultPlan.double) ?? 0
        delayMilliseconds = Int(json["delay_ms"]?.int64Value ?? 0)
        callbackUnreachable = json["callback_unreachable"]?.boolValue ?? false
        random = SplitMix64(seed: UInt64(bitPattern: json["seed"]?.int64Value ?? 0))
        for item in json["next"]?.arrayValue ?? [] {
            switch item["kind"]?.stringValue {
            case "cut": next.append(.cut(afterBytes: item["after_bytes"]?.int64Value))
            case "minus1": next.append(.minus1)
            case "io_error": next.append(.ioError)
            case "delay": next.append(.delay(milliseconds: Int(item["ms"]?.int64Value ?? 0)))
            default: throw APIError.param("unknown fault kind")
            }
        }
    }

    /// The fault for the next chunk request carrying `length` body bytes, and the delay to add.
    mutating func draw(length: Int64) -> (fault: Fault?, delayMilliseconds: Int) {
        var fault: Fault? = nil
        if !next.isEmpty {
            fault = next.removeFirst()
        } else if cutRate + minus1Rate + ioErrorRate > 0 {
            let r = random.nextUnitDouble()
            if r < cutRate { fault = .cut(afterBytes: nil) }
            else if r < cutRate + minus1Rate { fault = .minus1 }
            else if r < cutRate + minus1Rate + ioErrorRate { fault = .ioError }
        }
        if case .cut(nil) = fault {
            fault = .cut(afterBytes: length > 0 ? Int64(random.next() % UInt64(length)) : 0)
        }
        var delay = delayMilliseconds
        if case .delay(let ms) = fault { delay += ms; fault = nil }
        return (fault, delay)
    }

    private static func double(_ j: JSON) -> Double? {
        if case .number(let text) = j { return Double(text) }
        return nil
    }
}

/// A small seeded generator (SplitMix64) so fault sequences repeat for a given seed.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextUnitDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// The fault drawn for one upload request on whichever storage takes it (a local chunk, a slave node's
/// chunk, a OneDrive range), so `/__dev/faults` reaches the storage of every dev-server policy alike.
struct DrawnFault {
    var fault: FaultPlan.Fault?
    var delayMilliseconds = 0
    private let declaredLength: Int64

    init(_ plan: inout FaultPlan, declaredLength: Int64) {
        self.declaredLength = declaredLength
        (fault, delayMilliseconds) = plan.draw(length: declaredLength)
    }

    /// A fault answered as the storage's own failure (-1, an I/O error): nothing of the body is stored.
    var storesNothing: Bool { fault == .minus1 || fault == .ioError }

    /// The part of `bytes` that arrives before a cut (with `received` bytes already in), and whether the
    /// connection closes after it.
    func admit(_ bytes: UnsafeRawBufferPointer, received: Int64) -> (usable: UnsafeRawBufferPointer, cutNow: Bool) {
        if case .cut(let after?) = fault, after < declaredLength, received + Int64(bytes.count) >= after {
            return (UnsafeRawBufferPointer(rebasing: bytes[0..<Int(max(0, after - received))]), true)
        }
        return (bytes, false)
    }

    /// The answer as the fault leaves it: late, or lost after the request was processed (a cut at or past
    /// the body's end, reference §8 step 5's unknown outcome).
    func shape(_ reply: Reply) -> Reply {
        var reply = reply
        reply.delayMilliseconds += delayMilliseconds
        if case .cut = fault { reply.dropConnection = true }
        return reply
    }
}

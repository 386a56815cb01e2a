/// Test controls under `/__dev/` (not part of Cloudreve; no auth, plain JSON answers).
extension Store {
    func devStats() -> Reply {
        // A node's sessions live in a KV with a TTL: an expired one is gone, with its partial file. They are
        // dropped lazily (when a session is next opened); here too, so what a test sees left is only live.
        for id in Array(direct.slaveSessions.keys) { _ = liveSlaveSession(id) }
        return .plainJSON(stats.json)
    }

    func devResetStats() -> Reply {
        stats = Stats()
        return .plainJSON(stats.json)
    }

    /// Replaces the chunk fault plan; `{}` clears it.
    func devSetFaults(_ request: Request) throws -> Reply {
        faults = try FaultPlan(json: request.jsonBody())
        return .plainJSON(.object([("ok", .bool(true))]))
    }

    /// `{"advance_seconds": N}` moves the server's clock forward, so token, session and lock expiry
    /// can be tested without waiting. Answers the server's notion of now.
    func devAdvanceClock(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let seconds = body["advance_seconds"]?.int64Value else { throw APIError.param() }
        clockOffsetNanoseconds &+= seconds &* 1_000_000_000
        return .plainJSON(.object([("now", .string(now.rfc3339))]))
    }
}

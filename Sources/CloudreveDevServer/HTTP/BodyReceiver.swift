import Foundation

/// Takes a request body as it streams in and produces the answer once it has ended. Routes that
/// store bytes (chunks, `PUT /file/content`) write them as they arrive, so a 25 MiB chunk is never
/// held in memory; the others collect a small JSON body.
protocol BodyReceiver: AnyObject {
    /// One piece of the body. Returning false closes the connection at once, unanswered
    /// (the `cut` fault).
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// The body is complete: the answer.
    func finish() -> Reply
    /// The connection went away before the body ended; nothing can be answered.
    func abandon()
    /// The body is complete: `answer` gets the reply, possibly later and from another thread (a slave
    /// node waits for its master without holding the event loop). By default, `finish()` at once.
    func finish(then answer: @escaping (Reply) -> Void)
    /// An answer sent as soon as the head arrives, the body left unread and the connection closed after
    /// it: what a slave node does with a refused chunk, which the client sees as a broken pipe (§8c).
    var answerAtHead: Reply? { get }
}

extension BodyReceiver {
    func finish(then answer: @escaping (Reply) -> Void) { answer(finish()) }
    var answerAtHead: Reply? { nil }
}

/// Collects the body, then runs a handler with the whole request (bodies above the limit are
/// drained and refused).
final class BufferedBody: BodyReceiver {
    static let limit = 32 << 20

    private var request: Request
    private let handler: (Request) -> Reply
    private var overflow = false
    /// Answer from a thread of its own: the handler makes blocking requests to the storage (moto).
    private let offLoop: Bool

    init(_ request: Request, offLoop: Bool = false, handler: @escaping (Request) -> Reply) {
        self.request = request
        self.offLoop = offLoop
        self.handler = handler
    }

    func finish(then answer: @escaping (Reply) -> Void) {
        guard offLoop else { return answer(finish()) }
        Thread.detachNewThread { answer(self.finish()) }
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if request.body.count + bytes.count > BufferedBody.limit { overflow = true }
        if !overflow { request.body.append(contentsOf: bytes) }
        return true
    }

    func finish() -> Reply { overflow ? .error(.param("request body too large")) : handler(request) }

    func abandon() {}
}

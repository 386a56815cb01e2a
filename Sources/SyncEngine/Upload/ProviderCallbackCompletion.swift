import CloudreveAPI
import Foundation

/// The completion of an OSS or OBS session, where the storage calls Cloudreve's callback itself and relays
/// its answer (reference §5). Nothing is left for the client to call afterwards, so each answer maps to:
/// done, ask the file, start over now, or give up for this pass.
extension S3Parts {
    func completeWithProviderCallback(etags: [Int: String], session: SessionRecord) throws {
        let storage = "the '\(s3.policyType)' storage"
        var attempt = 0
        while true {
            attempt += 1
            var trouble: String
            do {
                switch try client.completeWithProviderCallback(url: s3.completeURL, etags: etags, policyType: s3.policyType) {
                case .done, .askFile:
                    return   // the caller confirms with the file itself (FileUploader.confirmCompleted)
                case .uploadGone:
                    // Most often an earlier completion went through and a crash lost its answer: the caller asks
                    // the file before it cancels anything.
                    throw Restart(reason: "\(storage) no longer knows the multipart upload of \(session.uri) "
                                  + "(NoSuchUpload at \(withoutQuery(s3.completeURL)))")
                case .refused(let what):
                    throw Restart(reason: "\(storage) refused to complete \(session.uri): \(what) from \(withoutQuery(s3.completeURL))")
                case .callbackFailed(let what):
                    throw GiveUp(reason: callbackFailedMessage(storage: storage, uri: session.uri, detail: what))
                case .retry(let what):
                    trouble = what
                }
            } catch let error as CloudreveError where error.isRetryable {
                trouble = "\(error)"
            }
            guard attempt < S3Parts.completionAttempts else {
                // The session stays journaled: the next pass completes it with the ETags it holds.
                throw UploadFailure(reason: "\(storage) kept failing to complete \(session.uri) at \(withoutQuery(s3.completeURL)): "
                                    + "\(trouble); it is tried again on the next pass", permanent: false)
            }
            Thread.sleep(forTimeInterval: backoffDelay(attempt: attempt, base: options.backoffBase, cap: options.backoffCap,
                                                       random: Double.random(in: 0..<1)))
        }
    }
}

/// What the user reads when OSS or OBS assembled the object but Cloudreve's callback failed. The callback
/// goes to Cloudreve's site URL (the driver's `Token` builds it from the `siteURL` setting), so an address the
/// storage cannot reach is the usual cause.
func callbackFailedMessage(storage: String, uri: String, detail: String) -> String {
    "\(storage) assembled \(uri) but its callback to Cloudreve failed (\(detail)); the session was cancelled and "
        + "the file is uploaded again on the next pass. If this repeats, ask the Cloudreve admin to check that the "
        + "site URL in Cloudreve's settings is reachable from the storage provider, or to enable relay mode for the policy"
}

import CloudreveAPI
import Foundation

/// Whether a file the journal knows nothing about is already on the server as we would upload it, so it
/// is recorded instead of sent again (a lost or new journal must not re-send a whole tree). Only servers
/// from 4.4 keep our `last_modified` as `updated_at` (§3); before that nothing proves the content is ours.
/// Databases may keep `updated_at` to the second only, so a whole-second value matches by second.
public func serverAlreadyHas(_ info: FileInfo, identity: FileIdentity, version: ServerVersion) -> Bool {
    guard version.keepsLastModified, !info.isFolder, info.uploadSessionID == nil, info.size == identity.size,
          let updated = info.updatedAtDate else { return false }
    let remoteMs = Int64((updated.timeIntervalSince1970 * 1000).rounded())
    if remoteMs == identity.mtimeNs / 1_000_000 { return true }
    return remoteMs % 1000 == 0 && remoteMs / 1000 == identity.mtimeNs / 1_000_000_000
}

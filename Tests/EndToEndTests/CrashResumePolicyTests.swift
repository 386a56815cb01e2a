import Foundation
import XCTest

// The crash-resume suite (CrashResumeSuite, CrashResumeTests.swift) on every other storage policy, on the
// dev server's 4.18 emulation, and remote and s3 on 4.0 too (OneDrive and relay need no 4.0 run: issue
// 10's acceptance). One small method per policy × release × body, so a failure names all three. The
// SIGKILL rounds are fewer here than on local (12 rounds over 14 files of 8 chunks, relay 24, instead of 20
// over 16 of 12) to keep the suite's time down; the bound and the share of rounds really killed are the same.

final class CrashResumeRelayTests: CrashResumeSuite {
    // Relay completes whole files only (a killed run keeps nothing of a file in flight), so the rounds that
    // stop at a crash moment finish files that count: more of them, or the last rounds run out of work.
    func testSigkills_relay_4_18() throws { try twentySigkills(.relay, "4.18", rounds: 12, files: 24, chunks: 8) }

    func testDevServerRestartMidUpload_relay_4_18() throws { try devServerRestartMidUpload(.relay, "4.18") }

    func testExpiredSessionCancelledAndRestarted_relay_4_18() throws { try expiredSessionCancelledAndRestarted(.relay, "4.18") }

    func testInjectedFaultsOneVersionPerFile_relay_4_18() throws { try injectedFaultsDeliverOneVersionPerFile(.relay, "4.18") }

    func testFileAppendedWhileUploading_relay_4_18() throws { try fileAppendedWhileUploading(.relay, "4.18") }

    func testAnotherClientsOldPlaceholdersCleaned_relay_4_18() throws { try anotherClientsOldPlaceholdersCleaned(.relay, "4.18") }

    func testServerCopyChangedKeepsBoth_relay_4_18() throws { try serverCopyChangedKeepsBoth(.relay, "4.18") }

    func testConflictCopyInterruptedBySIGKILL_relay_4_18() throws { try conflictCopyInterruptedBySIGKILL(.relay, "4.18") }
}

final class CrashResumeRemoteTests: CrashResumeSuite {
    func testSigkills_remote_4_18() throws { try twentySigkills(.remote, "4.18", rounds: 12, files: 14, chunks: 8) }

    func testSigkills_remote_4_0() throws { try twentySigkills(.remote, "4.0", rounds: 12, files: 14, chunks: 8) }

    func testDevServerRestartMidUpload_remote_4_18() throws { try devServerRestartMidUpload(.remote, "4.18") }

    func testDevServerRestartMidUpload_remote_4_0() throws { try devServerRestartMidUpload(.remote, "4.0") }

    func testExpiredSessionCancelledAndRestarted_remote_4_18() throws { try expiredSessionCancelledAndRestarted(.remote, "4.18") }

    func testExpiredSessionCancelledAndRestarted_remote_4_0() throws { try expiredSessionCancelledAndRestarted(.remote, "4.0") }

    func testInjectedFaultsOneVersionPerFile_remote_4_18() throws { try injectedFaultsDeliverOneVersionPerFile(.remote, "4.18") }

    func testInjectedFaultsOneVersionPerFile_remote_4_0() throws { try injectedFaultsDeliverOneVersionPerFile(.remote, "4.0") }

    func testFileAppendedWhileUploading_remote_4_18() throws { try fileAppendedWhileUploading(.remote, "4.18") }

    func testFileAppendedWhileUploading_remote_4_0() throws { try fileAppendedWhileUploading(.remote, "4.0") }

    func testAnotherClientsOldPlaceholdersCleaned_remote_4_18() throws { try anotherClientsOldPlaceholdersCleaned(.remote, "4.18") }

    func testAnotherClientsOldPlaceholdersCleaned_remote_4_0() throws { try anotherClientsOldPlaceholdersCleaned(.remote, "4.0") }

    func testServerCopyChangedKeepsBoth_remote_4_18() throws { try serverCopyChangedKeepsBoth(.remote, "4.18") }

    func testServerCopyChangedKeepsBoth_remote_4_0() throws { try serverCopyChangedKeepsBoth(.remote, "4.0") }

    func testConflictCopyInterruptedBySIGKILL_remote_4_18() throws { try conflictCopyInterruptedBySIGKILL(.remote, "4.18") }

    func testConflictCopyInterruptedBySIGKILL_remote_4_0() throws { try conflictCopyInterruptedBySIGKILL(.remote, "4.0") }
}

final class CrashResumeS3Tests: CrashResumeSuite {
    func testSigkills_s3_4_18() throws { try twentySigkills(.s3, "4.18", rounds: 12, files: 14, chunks: 8) }

    func testSigkills_s3_4_0() throws { try twentySigkills(.s3, "4.0", rounds: 12, files: 14, chunks: 8) }

    func testDevServerRestartMidUpload_s3_4_18() throws { try devServerRestartMidUpload(.s3, "4.18") }

    func testDevServerRestartMidUpload_s3_4_0() throws { try devServerRestartMidUpload(.s3, "4.0") }

    func testExpiredSessionCancelledAndRestarted_s3_4_18() throws { try expiredSessionCancelledAndRestarted(.s3, "4.18") }

    func testExpiredSessionCancelledAndRestarted_s3_4_0() throws { try expiredSessionCancelledAndRestarted(.s3, "4.0") }

    func testInjectedFaultsOneVersionPerFile_s3_4_18() throws { try injectedFaultsDeliverOneVersionPerFile(.s3, "4.18") }

    func testInjectedFaultsOneVersionPerFile_s3_4_0() throws { try injectedFaultsDeliverOneVersionPerFile(.s3, "4.0") }

    func testFileAppendedWhileUploading_s3_4_18() throws { try fileAppendedWhileUploading(.s3, "4.18") }

    func testFileAppendedWhileUploading_s3_4_0() throws { try fileAppendedWhileUploading(.s3, "4.0") }

    func testAnotherClientsOldPlaceholdersCleaned_s3_4_18() throws { try anotherClientsOldPlaceholdersCleaned(.s3, "4.18") }

    func testAnotherClientsOldPlaceholdersCleaned_s3_4_0() throws { try anotherClientsOldPlaceholdersCleaned(.s3, "4.0") }

    func testServerCopyChangedKeepsBoth_s3_4_18() throws { try serverCopyChangedKeepsBoth(.s3, "4.18") }

    func testServerCopyChangedKeepsBoth_s3_4_0() throws { try serverCopyChangedKeepsBoth(.s3, "4.0") }

    func testConflictCopyInterruptedBySIGKILL_s3_4_18() throws { try conflictCopyInterruptedBySIGKILL(.s3, "4.18") }

    func testConflictCopyInterruptedBySIGKILL_s3_4_0() throws { try conflictCopyInterruptedBySIGKILL(.s3, "4.0") }
}

final class CrashResumeOneDriveTests: CrashResumeSuite {
    func testSigkills_onedrive_4_18() throws { try twentySigkills(.onedrive, "4.18", rounds: 12, files: 14, chunks: 8) }

    func testDevServerRestartMidUpload_onedrive_4_18() throws { try devServerRestartMidUpload(.onedrive, "4.18") }

    func testExpiredSessionCancelledAndRestarted_onedrive_4_18() throws { try expiredSessionCancelledAndRestarted(.onedrive, "4.18") }

    func testInjectedFaultsOneVersionPerFile_onedrive_4_18() throws { try injectedFaultsDeliverOneVersionPerFile(.onedrive, "4.18") }

    func testFileAppendedWhileUploading_onedrive_4_18() throws { try fileAppendedWhileUploading(.onedrive, "4.18") }

    func testAnotherClientsOldPlaceholdersCleaned_onedrive_4_18() throws { try anotherClientsOldPlaceholdersCleaned(.onedrive, "4.18") }

    func testServerCopyChangedKeepsBoth_onedrive_4_18() throws { try serverCopyChangedKeepsBoth(.onedrive, "4.18") }

    func testConflictCopyInterruptedBySIGKILL_onedrive_4_18() throws { try conflictCopyInterruptedBySIGKILL(.onedrive, "4.18") }
}

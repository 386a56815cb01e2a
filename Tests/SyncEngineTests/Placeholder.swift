import XCTest

final class SyncEngineTestsPlaceholder: XCTestCase {}

import XCTest

final class CloudreveAPITestsPlaceholder: XCTestCase {}

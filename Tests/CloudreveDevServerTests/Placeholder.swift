import XCTest

final class CloudreveDevServerTestsPlaceholder: XCTestCase {}

/// How the requests of one S3-family policy type differ from plain S3's (reference §5). Read from
/// Cloudreve 4.18's drivers (`driver/<type>/*.go Token`: what each presigned URL signs) and its web client
/// (`Uploader/core/api`: what it sends). Pure: unit-tested per type.
public struct S3Flavor: Sendable {
    /// The Content-Type of each part PUT. OSS and OBS presign the part URLs with
    /// `Content-Type: application/octet-stream`, so any other value (or none) breaks the signature there.
    /// S3, KS3 and COS sign only the length: nothing is sent, as crsync always did for them.
    public var partContentType: String?
    /// The completion POST's headers (Content-Type first).
    public var completionHeaders: [(String, String)]
    /// Whether the completion's body lists the parts. OSS's is empty: `x-oss-complete-all: yes` makes OSS
    /// assemble every part it holds.
    public var completionListsParts: Bool
    /// The storage itself calls Cloudreve's callback during the completion and relays its answer (OSS, OBS):
    /// the client calls no callback. S3, KS3 and COS: the client's GET callback follows the completion.
    public var providerCallsBack: Bool

    public static func of(_ policyType: String) -> S3Flavor {
        switch policyType {
        case "oss":
            // The complete URL signs Content-Type and both x-oss-* headers (driver/oss Token).
            return S3Flavor(partContentType: octetStream,
                            completionHeaders: [("Content-Type", octetStream), ("x-oss-forbid-overwrite", "true"),
                                                ("x-oss-complete-all", "yes")],
                            completionListsParts: false, providerCallsBack: true)
        case "obs":
            // The complete URL signs Content-Type octet-stream although the body is the parts XML (driver/obs Token).
            return S3Flavor(partContentType: octetStream, completionHeaders: [("Content-Type", octetStream)],
                            completionListsParts: true, providerCallsBack: true)
        case "cos":
            // Cloudreve's web client adds it; COS then refuses to replace an object of the same key.
            return S3Flavor(partContentType: nil, completionHeaders: [("Content-Type", "application/xml"), ("x-cos-forbid-overwrite", "true")],
                            completionListsParts: true, providerCallsBack: false)
        default:
            return S3Flavor(partContentType: nil, completionHeaders: [("Content-Type", "application/xml")],
                            completionListsParts: true, providerCallsBack: false)
        }
    }

    static let octetStream = "application/octet-stream"
}

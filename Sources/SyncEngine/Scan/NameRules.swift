/// Which local names Cloudreve will accept (`dbfs/validator.go`, §3 of the protocol notes).
///
/// Only the rules every server applies are checked here; a storage policy's extension lists and name
/// regexps are known only from the session reply and surface as error 40052 on upload.
public enum NameRules {
    /// Characters Cloudreve refuses anywhere in a name. "/" cannot occur in a Linux name, but a caller
    /// may check a name from elsewhere.
    static let forbidden: [UInt8] = Array(#"\/:*?"<>|"#.utf8)
    static let maximumBytes = 255

    /// nil when Cloudreve accepts the name (§3 name rules), else the reason a person can act on.
    /// Every rule the name breaks is listed, so one rename can fix them all.
    public static func problem(with name: [UInt8]) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name == Array(".".utf8) || name == Array("..".utf8) {
            return "“\(PathBytes.display(name))” is not allowed as a name on Cloudreve"
        }
        var reasons: [String] = []
        if name.count > maximumBytes {
            reasons.append("the name is \(name.count) bytes long but Cloudreve allows at most \(maximumBytes); shorten it")
        }
        if PathBytes.decodedUTF8(name) == nil {
            reasons.append("the name is not valid UTF-8 (odd bytes shown as \\xNN); rename it, "
                           + "e.g. `convmv -f latin1 -t utf-8` for names from an older system")
        }
        let found = forbidden.filter(name.contains)
        if !found.isEmpty {
            let list = found.map { "“\(Character(Unicode.Scalar($0)))”" }.joined(separator: " ")
            reasons.append("the name contains \(list), which Cloudreve does not allow in names "
                           + #"(none of \ / : * ? " < > |); rename it"#)
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}

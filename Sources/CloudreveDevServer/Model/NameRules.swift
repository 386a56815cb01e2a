/// Object-name rules of `dbfs/validator.go` (reference §3 "Name rules"), over bytes.
struct NameRules {
    /// Lower-cased extensions without the dot that the policy denies (`denied_suffix`).
    var deniedExtensions: [String]

    /// 1–255 bytes, none of `\ / : * ? " < > |`, not `.` or `..`.
    static func isValidName(_ name: [UInt8]) -> Bool {
        if name.isEmpty || name.count >= 256 { return false }
        let forbidden = Array("\\/:*?\"<>|".utf8)
        if name.contains(where: { forbidden.contains($0) }) { return false }
        return name != [0x2E] && name != [0x2E, 0x2E]
    }

    /// `util.IsInExtensionList`: the text after the last dot, lower-cased.
    func isExtensionAllowed(_ name: [UInt8]) -> Bool {
        guard !deniedExtensions.isEmpty else { return true }
        guard let dot = name.lastIndex(of: 0x2E) else { return !deniedExtensions.contains("") }
        let ext = String(decoding: name[(dot + 1)...], as: UTF8.self).lowercased()
        return !deniedExtensions.contains(ext)
    }

    /// Name and extension together, as `validateNewFile` checks a new upload's name.
    func isAcceptableFileName(_ name: [UInt8]) -> Bool {
        NameRules.isValidName(name) && isExtensionAllowed(name)
    }
}

/// glibc's malloc_trim(3), which Swift's Glibc module does not export (malloc.h is not part of it).
@_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32

/// Hands the pages of freed heap memory back to the kernel. glibc keeps them mapped otherwise, so after
/// one pass over a million files a daemon would idle at that pass's peak resident size for ever.
func returnFreedMemory() {
    _ = mallocTrim(0)
}

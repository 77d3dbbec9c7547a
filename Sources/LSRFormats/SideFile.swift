import LSRVectors

/// The framing of the small files stored beside `index.lsr` (`presets`, `query-encoder`): one
/// header line, `<magic> <version> xxh64 <16 hex digits> <byte count>`, then the body those
/// figures check. A damaged, truncated or extended file is detected before its body is read.
package enum SideFile {
    /// The file's bytes: the header line for `body`, then `body`.
    public static func encode(magic: String, version: Int, body: [UInt8]) -> [UInt8] {
        let checksum = body.withUnsafeBytes { XXHash64.hash($0) }
        return Array("\(magic) \(version) xxh64 \(XXHash64.hex(checksum)) \(body.count)\n".utf8) + body
    }

    /// The checked body of a side file.
    /// - Parameter remedy: what to do about a damaged file, appended to the messages.
    /// - Throws: `LSRError.corruptIndex` naming `path` when the header, length or checksum is
    ///   wrong; `.unsupportedVersion` for another version.
    public static func body(of bytes: [UInt8], magic: String, version: Int, path: String, remedy: String) throws -> [UInt8] {
        func corrupt(_ message: String) -> LSRError { LSRError(.corruptIndex, message + "; " + remedy, path: path) }
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else { throw corrupt("not a \(magic) file (no header line)") }
        let fields = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ")
        guard fields.count == 5, fields[0] == magic, fields[2] == "xxh64", let found = Int(fields[1]),
              let checksum = UInt64(fields[3], radix: 16), let length = Int(fields[4]) else {
            throw corrupt("not a \(magic) file (bad header line)")
        }
        guard found == version else {
            throw LSRError(.unsupportedVersion, "\(magic) format \(found) is not supported by this lsr (reads \(version)); " + remedy, path: path)
        }
        let body = Array(bytes[(newline + 1)...])
        guard body.count == length else { throw corrupt("truncated or extended: \(body.count) body bytes, header says \(length)") }
        guard body.withUnsafeBytes({ XXHash64.hash($0) }) == checksum else { throw corrupt("checksum mismatch: the file is damaged") }
        return body
    }
}

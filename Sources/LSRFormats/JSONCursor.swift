#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a JSON text could not be read: the message, and the field being read when known.
struct JSONFailure: Error {
    var message: String
    var field: String?
}

/// A minimal strict JSON scanner over one line of bytes (RFC 8259), used by the JSONL readers.
///
/// It reads exactly the shapes lsr needs (objects, strings, numbers) and skips any other value,
/// checking its syntax. Strings are checked to be valid UTF-8.
struct JSONCursor {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The next non-space byte, without consuming it.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONFailure) {
        guard peek() == byte else { throw failure("expected \(what)") }
        index += 1
    }

    /// Consumes `byte` if it is next and says whether it was.
    mutating func consume(_ byte: UInt8) -> Bool {
        if peek() == byte {
            index += 1
            return true
        }
        return false
    }

    func failure(_ message: String) -> JSONFailure {
        if index >= bytes.count { return JSONFailure(message: "invalid JSON: \(message), found end of line") }
        let found = bytes[index]
        let shown = found >= 0x20 && found < 0x7F ? "'\(Character(UnicodeScalar(found)))'" : "byte 0x\(String(found, radix: 16))"
        return JSONFailure(message: "invalid JSON at column \(index + 1): \(message), found \(shown)")
    }

    /// Reads a JSON string and returns it decoded.
    mutating func string() throws(JSONFailure) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw failure("expected a string") }
        index += 1
        let begin = index
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[begin ..< index])
                index += 1
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw JSONFailure(message: "invalid UTF-8 in a string")
                }
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw failure("control character in a string") }
            index += 1
        }
        guard index < bytes.count else { throw failure("unterminated string") }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[begin ..< index]))
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let text = String(validating: scratch, as: UTF8.self) else {
                    throw JSONFailure(message: "invalid UTF-8 in a string")
                }
                return text
            case UInt8(ascii: "\\"):
                try unescape()
            case 0 ..< 0x20:
                index -= 1
                throw failure("control character in a string")
            default:
                scratch.append(b)
            }
        }
        throw failure("unterminated string")
    }

    private mutating func unescape() throws(JSONFailure) {
        guard index < bytes.count else { throw failure("unterminated escape") }
        let e = bytes[index]
        index += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800 ..< 0xDC00).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw failure("unpaired UTF-16 surrogate in \\u escape")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00 ..< 0xE000).contains(low) else { throw failure("unpaired UTF-16 surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00 ..< 0xE000).contains(scalar) {
                throw failure("unpaired UTF-16 surrogate in \\u escape")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape") }
            scratch.append(contentsOf: UTF8.encode(unicode)!)
        default:
            index -= 1
            throw failure("invalid escape")
        }
    }

    private mutating func hex4() throws(JSONFailure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0 ..< 4 {
            let b = bytes[index]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// A JSON number: its text, and whether it is an integer (no fraction, no exponent).
    struct NumberToken {
        var range: Range<Int>
        var isInteger: Bool
    }

    /// Scans a number and checks its grammar.
    mutating func numberToken() throws(JSONFailure) -> NumberToken {
        skipWhitespace()
        let begin = index
        var isInteger = true
        if index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw failure("expected a number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("expected a digit after '.'") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("expected a digit in the exponent") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        return NumberToken(range: begin ..< index, isInteger: isInteger)
    }

    /// The value of a scanned number, correctly rounded to Double.
    func doubleValue(_ token: NumberToken) -> Double {
        var text = [CChar](repeating: 0, count: token.range.count + 1)
        for (i, j) in token.range.enumerated() { text[i] = CChar(bitPattern: bytes[j]) }
        return strtod(text, nil)
    }

    /// The text of a scanned token.
    func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// True when the next bytes spell `word`; consumes them.
    mutating func consumeWord(_ word: StaticString) -> Bool {
        skipWhitespace()
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { w in
            (0 ..< count).allSatisfy { bytes[index + $0] == w[$0] }
        }
        if matches { index += count }
        return matches
    }

    /// Reads a JSON object, calling `body` with each key and the cursor at its value; `body`
    /// must consume the value.
    mutating func object(_ body: (String, inout JSONCursor) throws(JSONFailure) -> Void) throws(JSONFailure) {
        try expect(UInt8(ascii: "{"), "a JSON object")
        if consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = try string()
            try expect(UInt8(ascii: ":"), "':'")
            try body(key, &self)
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"), "',' or '}'")
    }

    /// Checks that only white space is left.
    mutating func expectEnd() throws(JSONFailure) {
        skipWhitespace()
        guard atEnd else { throw failure("expected the end of the line after the object") }
    }

    /// An id: a non-empty string, or an integer kept as its decimal text.
    mutating func identifier(field: String) throws(JSONFailure) -> String {
        if peek() == UInt8(ascii: "\"") {
            let id = try string()
            guard !id.isEmpty else { throw JSONFailure(message: "must not be empty", field: field) }
            return id
        }
        guard let next = peek(), next == UInt8(ascii: "-") || (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(next) else {
            throw JSONFailure(message: "must be a string or an integer", field: field)
        }
        let number = try numberToken()
        guard number.isInteger else { throw JSONFailure(message: "must be a string or an integer", field: field) }
        return text(number.range)
    }

    /// A string, or nil for `null`.
    mutating func optionalString(field: String) throws(JSONFailure) -> String? {
        if consumeWord("null") { return nil }
        guard peek() == UInt8(ascii: "\"") else { throw JSONFailure(message: "must be a string or null", field: field) }
        return try string()
    }

    /// Skips any JSON value, checking its syntax.
    mutating func skipValue(depth: Int = 0) throws(JSONFailure) {
        guard depth < 512 else { throw failure("nesting deeper than 512 levels") }
        switch peek() {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"):
            index += 1
            if consume(UInt8(ascii: "}")) { return }
            repeat {
                _ = try string()
                try expect(UInt8(ascii: ":"), "':'")
                try skipValue(depth: depth + 1)
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"), "',' or '}'")
        case UInt8(ascii: "["):
            index += 1
            if consume(UInt8(ascii: "]")) { return }
            repeat { try skipValue(depth: depth + 1) } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "',' or ']'")
        case UInt8(ascii: "t"):
            guard consumeWord("true") else { throw failure("expected a value") }
        case UInt8(ascii: "f"):
            guard consumeWord("false") else { throw failure("expected a value") }
        case UInt8(ascii: "n"):
            guard consumeWord("null") else { throw failure("expected a value") }
        default:
            _ = try numberToken()
        }
    }

    private func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }
}

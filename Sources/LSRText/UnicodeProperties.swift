/// What the BERT normalizer and pre-tokenizer ask of a Unicode scalar, answered from tables
/// built once, on first use, from ``UnicodeTables`` (the reference implementation's Unicode
/// versions) and from the standard library (whitespace and lowercasing, which the reference
/// takes from Rust's `char` at the current Unicode version).
struct UnicodeProperties: Sendable {
    static let shared = UnicodeProperties()

    /// Bit flags per scalar value (0x110000 bytes).
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        /// Cc, Cf or Co (Unicode 8.0; unassigned code points are not "other").
        static let other = Flags(rawValue: 1)
        /// Any P* category (Unicode 8.0) or ASCII punctuation.
        static let punctuation = Flags(rawValue: 2)
        /// Mn (Unicode 8.0).
        static let nonspacingMark = Flags(rawValue: 4)
        /// The White_Space property (what Rust's `char::is_whitespace` tests).
        static let whitespace = Flags(rawValue: 8)
        /// A CJK ideograph of the ranges BERT pads with spaces.
        static let chineseCharacter = Flags(rawValue: 16)
        /// Has a canonical decomposition (Unicode 9.0; Hangul syllables included).
        static let decomposes = Flags(rawValue: 32)
        /// Canonical combining class other than 0 (Unicode 9.0).
        static let combining = Flags(rawValue: 64)
        /// Lowercasing changes it.
        static let changesWhenLowercased = Flags(rawValue: 128)
    }

    private let flags: [Flags]
    private let decompositionRanges: [UInt32: Range<Int>]
    private let decomposed: [UInt32]
    private let combiningClasses: [UInt32: UInt8]
    private let lowercase: [UInt32: [UInt32]]

    /// The ideograph ranges of BERT's `_is_chinese_char` (not all of CJK: not Hangul, Hiragana
    /// or Katakana).
    static let chineseRanges: [ClosedRange<UInt32>] = [
        0x4E00 ... 0x9FFF, 0x3400 ... 0x4DBF, 0x20000 ... 0x2A6DF, 0x2A700 ... 0x2B73F,
        0x2B740 ... 0x2B81F, 0x2B920 ... 0x2CEAF, 0xF900 ... 0xFAFF, 0x2F800 ... 0x2FA1F,
    ]
    static let whitespaceRanges: [ClosedRange<UInt32>] = [
        0x09 ... 0x0D, 0x20 ... 0x20, 0x85 ... 0x85, 0xA0 ... 0xA0, 0x1680 ... 0x1680, 0x2000 ... 0x200A,
        0x2028 ... 0x2029, 0x202F ... 0x202F, 0x205F ... 0x205F, 0x3000 ... 0x3000,
    ]

    static let hangulFirst: UInt32 = 0xAC00, hangulCount: UInt32 = 11172
    private static let leadBase: UInt32 = 0x1100, vowelBase: UInt32 = 0x1161, trailBase: UInt32 = 0x11A7
    private static let vowelCount: UInt32 = 21, trailCount: UInt32 = 28

    private init() {
        var flags = [Flags](repeating: [], count: 0x110000)
        func mark(_ ranges: some Sequence<ClosedRange<UInt32>>, _ flag: Flags) {
            for range in ranges { for v in range { flags[Int(v)].insert(flag) } }
        }
        mark(Self.parseRanges(UnicodeTables.other), .other)
        mark(Self.parseRanges(UnicodeTables.punctuation), .punctuation)
        mark(Self.parseRanges(UnicodeTables.nonspacingMarks), .nonspacingMark)
        mark(Self.whitespaceRanges, .whitespace)
        mark(Self.chineseRanges, .chineseCharacter)
        for v in UInt32(0x21) ... 0x7E where !(0x30 ... 0x39).contains(v) && !(0x41 ... 0x5A).contains(v) && !(0x61 ... 0x7A).contains(v) {
            flags[Int(v)].insert(.punctuation)
        }
        mark([Self.hangulFirst ... Self.hangulFirst + Self.hangulCount - 1], .decomposes)

        var decompositionRanges: [UInt32: Range<Int>] = [:]
        var decomposed: [UInt32] = []
        for entry in UnicodeTables.decompositions.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = entry.split(separator: ":")
            let scalar = UInt32(parts[0], radix: 16)!
            let start = decomposed.count
            decomposed += parts[1].split(separator: ",").map { UInt32($0, radix: 16)! }
            decompositionRanges[scalar] = start ..< decomposed.count
            flags[Int(scalar)].insert(.decomposes)
        }
        var combiningClasses: [UInt32: UInt8] = [:]
        for entry in UnicodeTables.combiningClasses.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = entry.split(separator: "=")
            let value = UInt8(parts[0])!
            for range in Self.parseRanges(parts[1].replacingOccurrences(of: ",", with: " ")) {
                for v in range {
                    combiningClasses[v] = value
                    flags[Int(v)].insert(.combining)
                }
            }
        }
        var lowercase: [UInt32: [UInt32]] = [:]
        // Every scalar with a lowercase mapping lies in planes 0 and 1.
        for v in UInt32(0) ..< 0x20000 {
            guard let scalar = Unicode.Scalar(v), scalar.properties.changesWhenLowercased else { continue }
            lowercase[v] = scalar.properties.lowercaseMapping.unicodeScalars.map(\.value)
            flags[Int(v)].insert(.changesWhenLowercased)
        }
        self.flags = flags
        self.decompositionRanges = decompositionRanges
        self.decomposed = decomposed
        self.combiningClasses = combiningClasses
        self.lowercase = lowercase
    }

    /// `A-B` and `A` hex ranges separated by spaces or newlines.
    static func parseRanges(_ text: String) -> [ClosedRange<UInt32>] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { item in
            let bounds = item.split(separator: "-").map { UInt32($0, radix: 16)! }
            return bounds[0] ... bounds[bounds.count - 1]
        }
    }

    @inline(__always)
    func flags(_ value: UInt32) -> Flags { flags[Int(value)] }

    func combiningClass(_ value: UInt32) -> UInt8 { combiningClasses[value] ?? 0 }

    /// Appends the full canonical decomposition of `value` (itself when it has none).
    func appendDecomposition(of value: UInt32, to output: inout [UInt32]) {
        if value &- Self.hangulFirst < Self.hangulCount {
            let index = value - Self.hangulFirst
            output.append(Self.leadBase + index / (Self.vowelCount * Self.trailCount))
            output.append(Self.vowelBase + index % (Self.vowelCount * Self.trailCount) / Self.trailCount)
            if index % Self.trailCount != 0 { output.append(Self.trailBase + index % Self.trailCount) }
        } else if let range = decompositionRanges[value] {
            output.append(contentsOf: decomposed[range])
        } else {
            output.append(value)
        }
    }

    /// Appends the lowercase mapping of `value` (one or more scalars).
    func appendLowercase(of value: UInt32, to output: inout [UInt32]) {
        if let mapped = lowercase[value] { output.append(contentsOf: mapped) } else { output.append(value) }
    }
}

/// The token strings of an index and their component ids.
///
/// An index numbers its tokens in ascending UTF-8 byte order of the strings, so that the same
/// vectors give the same component ids whatever input format or order they came in.
package struct Vocabulary: Sendable, Equatable {
    /// Token strings, indexed by component id, in ascending UTF-8 byte order.
    public let tokens: [String]
    private let idsByToken: [String: UInt32]

    /// A vocabulary of the given tokens, which must already be in canonical order.
    public init(canonicallyOrdered tokens: [String]) {
        self.tokens = tokens
        var ids = [String: UInt32](minimumCapacity: tokens.count)
        for (i, token) in tokens.enumerated() { ids[token] = UInt32(i) }
        self.idsByToken = ids
    }

    /// Number of tokens.
    public var count: Int { tokens.count }

    /// The component id of `token`, or nil if the index has never seen it.
    public func id(of token: String) -> UInt32? { idsByToken[token] }

    /// Puts `tokens` in canonical order.
    /// - Returns: the vocabulary and, for each input position, its new component id.
    public static func canonicalizing(_ tokens: [String]) -> (vocabulary: Vocabulary, newIDs: [UInt32]) {
        let order = tokens.indices.sorted { tokens[$0].utf8.lexicographicallyPrecedes(tokens[$1].utf8) }
        var newIDs = [UInt32](repeating: 0, count: tokens.count)
        for (rank, old) in order.enumerated() { newIDs[old] = UInt32(rank) }
        return (Vocabulary(canonicallyOrdered: order.map { tokens[$0] }), newIDs)
    }
}

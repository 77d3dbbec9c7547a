/// Conversions between `Float` and IEEE 754 half-precision bit patterns.
///
/// Swift's `Float16` on x86_64 without F16C code generation is a library call per value (about
/// 7.5 ns, see shared/NOTES.md); the hot loops decode raw `UInt16` bits with the exact
/// shift-and-multiply below instead (about 1 ns).
package enum HalfPrecision {
    /// The largest finite half-precision value.
    public static let greatestFiniteMagnitude: Float = 65504

    /// Decodes half-precision bits to `Float`.
    ///
    /// Exact for every finite half, normal or subnormal: the half's exponent and mantissa are moved
    /// into a `Float` whose exponent is 112 too small, and the multiplication by 2^112 is exact.
    /// Infinities and NaNs (never stored by lsr) decode to finite garbage, not a trap.
    @inlinable @inline(__always)
    public static func decode(_ bits: UInt16) -> Float {
        let magnitude = Float(bitPattern: UInt32(bits & 0x7fff) << 13) * 0x1p112
        return Float(bitPattern: magnitude.bitPattern | (UInt32(bits & 0x8000) << 16))
    }

    /// Rounds a `Float` to the nearest half (ties to even) and returns its bits.
    public static func encode(_ value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// `value` rounded to half precision, as a `Float`.
    public static func round(_ value: Float) -> Float {
        decode(encode(value))
    }
}

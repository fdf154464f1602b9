//! Strict base64url without padding (RFC 7515 §2): the only encoding a compact JWS/JWE uses.
//!
//! Decoding is the largest part of a plugin's own work on a valid token (about 4 KiB of text
//! per access token: two signatures, the payload, the ciphertext). Inside a component, whole
//! blocks of 16 characters are decoded with wasm SIMD (the engine always offers it), and the
//! rest (and every native build) with the `base64` crate, which also judges the final partial
//! quantum's trailing bits. Both accept exactly the same text.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Decodes one compact-serialization part; `None` for padding, other alphabets, or
/// non-canonical trailing bits (two encodings of one value would let a token be altered
/// without changing its meaning).
pub fn decode(part: &str) -> Option<Vec<u8>> {
    let input = part.as_bytes();
    let blocks_len = input.len() / 16 * 16;
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    if !blocks::decode(&input[..blocks_len], &mut out) {
        return None;
    }
    URL_SAFE_NO_PAD.decode_vec(&input[blocks_len..], &mut out).ok()?;
    Some(out)
}

/// Where the next `.` is in `text` (the compact serialization's separator), if any.
pub(crate) fn find_dot(text: &[u8]) -> Option<usize> {
    blocks::find_dot(text)
}

/// Whether `text` holds only base64url characters and dots: a compact serialization's whole
/// text, which JSON needs no escape for.
pub(crate) fn is_compact_text(text: &[u8]) -> bool {
    blocks::is_compact_text(text)
}

/// Encodes bytes as one compact-serialization part.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(target_arch = "wasm32")]
mod blocks {
    use core::arch::wasm32::{
        i16x8_shl, i32x4_shl, i8x16, i8x16_add, i8x16_swizzle, u16x8_shr, u16x8_splat, u32x4_shr,
        u32x4_splat, u8x16_all_true, u8x16_bitmask, u8x16_eq, u8x16_ge, u8x16_le, u8x16_splat, v128,
        v128_and, v128_load, v128_or, v128_store,
    };

    /// Decodes `input` (a multiple of 16 characters) onto `out`; false if any character is
    /// not base64url.
    #[target_feature(enable = "simd128")]
    pub fn decode(input: &[u8], out: &mut Vec<u8>) -> bool {
        // Each block stores 16 bytes of which 12 are kept: room for the last one's 4 more.
        out.reserve(input.len() / 16 * 12 + 4);
        for block in input.chunks_exact(16) {
            // SAFETY: `block` is 16 readable bytes (chunks_exact); wasm loads need no alignment.
            let text = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
            let Some(values) = sextets(text) else {
                return false;
            };
            let len = out.len();
            // SAFETY: the reserve above leaves at least 16 bytes of capacity past `len` for
            // every block; the 12 bytes kept are written before `set_len` counts them.
            unsafe {
                v128_store(out.as_mut_ptr().add(len).cast::<v128>(), pack(values));
                out.set_len(len + 12);
            }
        }
        true
    }

    /// The first `.` in `text`, sixteen bytes at a time.
    #[target_feature(enable = "simd128")]
    pub fn find_dot(text: &[u8]) -> Option<usize> {
        let blocks = text.chunks_exact(16);
        let rest_at = text.len() - blocks.remainder().len();
        for (index, block) in blocks.enumerate() {
            // SAFETY: `block` is 16 readable bytes (chunks_exact); wasm loads need no alignment.
            let bytes = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
            let dots = u8x16_bitmask(u8x16_eq(bytes, u8x16_splat(b'.')));
            if dots != 0 {
                return Some(index * 16 + dots.trailing_zeros() as usize);
            }
        }
        text[rest_at..].iter().position(|&byte| byte == b'.').map(|at| rest_at + at)
    }

    /// Whether every byte is base64url or a dot, sixteen bytes at a time.
    #[target_feature(enable = "simd128")]
    pub fn is_compact_text(text: &[u8]) -> bool {
        let blocks = text.chunks_exact(16);
        let rest = blocks.remainder();
        for block in blocks {
            // SAFETY: `block` is 16 readable bytes (chunks_exact); wasm loads need no alignment.
            let bytes = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
            let classes = Classes::of(bytes);
            let dot = u8x16_eq(bytes, u8x16_splat(b'.'));
            if !u8x16_all_true(v128_or(classes.any(), dot)) {
                return false;
            }
        }
        rest.iter().all(|&byte| super::is_compact_byte(byte))
    }

    /// Which of the base64url alphabet's five ranges each of sixteen characters is in.
    struct Classes {
        upper: v128,
        lower: v128,
        digit: v128,
        dash: v128,
        underscore: v128,
    }

    impl Classes {
        #[target_feature(enable = "simd128")]
        fn of(text: v128) -> Classes {
            let within = |low: u8, high: u8| {
                v128_and(u8x16_ge(text, u8x16_splat(low)), u8x16_le(text, u8x16_splat(high)))
            };
            Classes {
                upper: within(b'A', b'Z'),
                lower: within(b'a', b'z'),
                digit: within(b'0', b'9'),
                dash: u8x16_eq(text, u8x16_splat(b'-')),
                underscore: u8x16_eq(text, u8x16_splat(b'_')),
            }
        }

        /// Lanes whose character is base64url at all.
        #[target_feature(enable = "simd128")]
        fn any(&self) -> v128 {
            v128_or(v128_or(self.upper, self.lower), v128_or(self.digit, v128_or(self.dash, self.underscore)))
        }
    }

    /// Each character's 6-bit value, or `None` if one is outside the base64url alphabet.
    #[target_feature(enable = "simd128")]
    fn sextets(text: v128) -> Option<v128> {
        let classes = Classes::of(text);
        if !u8x16_all_true(classes.any()) {
            return None;
        }
        let Classes { upper, lower, digit, dash, underscore } = classes;
        // What each class adds (mod 256) to reach its value: A..Z 0..25, a..z 26..51,
        // 0..9 52..61, '-' 62, '_' 63.
        let offset = |class: v128, add: i8| v128_and(class, u8x16_splat(add as u8));
        let offsets = v128_or(
            v128_or(offset(upper, -65), offset(lower, -71)),
            v128_or(offset(digit, 4), v128_or(offset(dash, 17), offset(underscore, -32))),
        );
        Some(i8x16_add(text, offsets))
    }

    /// Sixteen sextets to twelve bytes (in the first twelve lanes): pairs to 12 bits, pairs
    /// of those to 24, then each group of three bytes in big-endian order.
    #[target_feature(enable = "simd128")]
    fn pack(values: v128) -> v128 {
        let pairs = v128_or(i16x8_shl(v128_and(values, u16x8_splat(0x00ff)), 6), u16x8_shr(values, 8));
        let quads = v128_or(i32x4_shl(v128_and(pairs, u32x4_splat(0xffff)), 12), u32x4_shr(pairs, 16));
        i8x16_swizzle(quads, i8x16(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1))
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod blocks {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    /// Decodes `input` (a multiple of 16 characters) onto `out`; false if any character is
    /// not base64url.
    pub fn decode(input: &[u8], out: &mut Vec<u8>) -> bool {
        URL_SAFE_NO_PAD.decode_vec(input, out).is_ok()
    }

    /// The first `.` in `text`.
    pub fn find_dot(text: &[u8]) -> Option<usize> {
        text.iter().position(|&byte| byte == b'.')
    }

    /// Whether every byte is base64url or a dot.
    pub fn is_compact_text(text: &[u8]) -> bool {
        text.iter().all(|&byte| super::is_compact_byte(byte))
    }
}

/// Whether `byte` is a base64url character or a dot.
fn is_compact_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.')
}

//! Strict base64url without padding (RFC 7515 §2): the only encoding a compact JWS/JWE uses.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Decodes one compact-serialization part; `None` for padding, other alphabets, or
/// non-canonical trailing bits (two encodings of one value would let a token be altered
/// without changing its meaning).
pub fn decode(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part).ok()
}

/// Encodes bytes as one compact-serialization part.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

//! A128CBC-HS256 decryption (RFC 7518 §5.2.2.2): the access token's claims, AES-128-CBC
//! under the key's second half with an HMAC-SHA-256 tag under its first.
//!
//! The tag is checked first, in constant time, and only a ciphertext whose tag holds is
//! decrypted, so a forged ciphertext never reaches the padding check. josekit decrypts in the
//! same way but sets OpenSSL 3 up anew on every call (an implicit cipher fetch and an HMAC key
//! object each time, ~7 µs of a validation's ~60). Here the cipher is fetched once per process
//! and the HMAC key is prepared when the key is added. Tokens are still encrypted by josekit
//! (`sim/src/tokens.rs`), so every run checks one implementation against the other, and the
//! tests below do so for tampered input too.

use std::sync::LazyLock;

use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use ring::hmac;

use super::{ENCRYPTION_KEY_BYTES, IV_BYTES, TAG_BYTES};

/// AES-128-CBC, fetched from OpenSSL's default provider once; the legacy handle if that fails.
static AES_128_CBC: LazyLock<Option<Cipher>> =
    LazyLock::new(|| Cipher::fetch(None, "AES-128-CBC", None).ok());

fn aes_128_cbc() -> &'static CipherRef {
    AES_128_CBC.as_deref().unwrap_or(Cipher::aes_128_cbc())
}

/// One A128CBC-HS256 key, split as RFC 7518 §5.2.2.1 splits it.
pub struct ContentKey {
    mac: hmac::Key,
    aes: [u8; ENCRYPTION_KEY_BYTES / 2],
}

impl ContentKey {
    pub fn new(key: &[u8; ENCRYPTION_KEY_BYTES]) -> ContentKey {
        let (mac, aes) = key.split_at(ENCRYPTION_KEY_BYTES / 2);
        let mut aes_key = [0u8; ENCRYPTION_KEY_BYTES / 2];
        aes_key.copy_from_slice(aes);
        ContentKey { mac: hmac::Key::new(hmac::HMAC_SHA256, mac), aes: aes_key }
    }

    /// The plaintext, or `None` when the IV or the tag is not 16 bytes, the tag does not hold
    /// or the padding is bad. The lengths come first: OpenSSL's binding panics on a short IV
    /// and reads a long one's first 16 bytes (a key's holder could tag either), and a tag of
    /// another length needs no MAC to refuse. `aad` is the protected header as it stands in
    /// the token (base64url).
    pub fn decrypt(&self, aad: &[u8], iv: &[u8], ciphertext: &[u8], tag: &[u8]) -> Option<Vec<u8>> {
        if iv.len() != IV_BYTES || tag.len() != TAG_BYTES {
            return None;
        }
        let mut mac = hmac::Context::with_key(&self.mac);
        mac.update(aad);
        mac.update(iv);
        mac.update(ciphertext);
        let aad_bits = u64::try_from(aad.len()).ok()?.checked_mul(8)?;
        mac.update(&aad_bits.to_be_bytes());
        let expected = mac.sign();
        if !openssl::memcmp::eq(&expected.as_ref()[..TAG_BYTES], tag) {
            return None;
        }
        let mut context = CipherCtx::new().ok()?;
        context.decrypt_init(Some(aes_128_cbc()), Some(&self.aes), Some(iv)).ok()?;
        let mut plaintext = Vec::with_capacity(ciphertext.len() + TAG_BYTES);
        context.cipher_update_vec(ciphertext, &mut plaintext).ok()?;
        context.cipher_final_vec(&mut plaintext).ok()?;
        Some(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwe::enc::A128CBC_HS256;
    use josekit::jwe::JweContentEncryption;

    const AAD: &[u8] = b"eyJhbGciOiJkaXIiLCJjdHkiOiJKV1QiLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0";

    fn encrypted(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (ciphertext, tag) = A128CBC_HS256.encrypt(key, Some(iv), plaintext, AAD).unwrap();
        (ciphertext, tag.unwrap())
    }

    #[test]
    fn opens_what_josekit_seals_at_every_padding_length() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
        let ours = ContentKey::new(&key);
        for length in 0..=48 {
            let plaintext: Vec<u8> = (0..length).map(|i| (i * 13) as u8).collect();
            let iv = [length as u8; 16];
            let (ciphertext, tag) = encrypted(&key, &iv, &plaintext);
            assert_eq!(
                ours.decrypt(AAD, &iv, &ciphertext, &tag).as_deref(),
                Some(&plaintext[..]),
                "{length} bytes"
            );
        }
    }

    /// RFC 7518 Appendix B.1: its key, IV, AAD and plaintext give its ciphertext and tag.
    #[test]
    fn rfc_7518_appendix_b1() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let iv = hex::decode("1af38c2dc2b96ffdd86694092341bc04").unwrap();
        let aad = b"The second principle of Auguste Kerckhoffs";
        let plaintext =
            b"A cipher system must not be required to be secret, and it must be able to fall into \
                          the hands of the enemy without inconvenience";
        let ciphertext = hex::decode(concat!(
            "c80edfa32ddf39d5ef00c0b468834279a2e46a1b8049f792f76bfe54b903a9c9",
            "a94ac9b47ad2655c5f10f9aef71427e2fc6f9b3f399a221489f16362c7032336",
            "09d45ac69864e3321cf82935ac4096c86e133314c54019e8ca7980dfa4b9cf1b",
            "384c486f3a54c51078158ee5d79de59fbd34d848b3d69550a67646344427ade5",
            "4b8851ffb598f7f80074b9473c82e2db"
        ))
        .unwrap();
        let tag = hex::decode("652c3fa36b0a7c5b3219fab3a30bc1c4").unwrap();
        let key = ContentKey::new(&key);
        assert_eq!(key.decrypt(aad, &iv, &ciphertext, &tag).as_deref(), Some(&plaintext[..]));
        assert_eq!(key.decrypt(aad, &iv, &ciphertext, &tag[..15]), None);
    }

    /// A sealed message's parts, for tampering with one at a time.
    #[derive(Clone)]
    struct Parts {
        aad: Vec<u8>,
        iv: Vec<u8>,
        ciphertext: Vec<u8>,
        tag: Vec<u8>,
    }

    #[test]
    fn refuses_every_tampering_as_josekit_does() {
        let key = [42u8; 32];
        let iv = [9u8; 16];
        let plaintext = br#"{"sub":"alice","exp":1700000000}"#;
        let (ciphertext, tag) = encrypted(&key, &iv, plaintext);
        let ours = ContentKey::new(&key);
        let flip = |bytes: &[u8], at: usize| {
            let mut bytes = bytes.to_vec();
            bytes[at] ^= 0x80;
            bytes
        };
        let good =
            Parts { aad: AAD.to_vec(), iv: iv.to_vec(), ciphertext: ciphertext.clone(), tag: tag.clone() };
        let cases = [
            ("aad", Parts { aad: flip(AAD, 3), ..good.clone() }),
            ("iv", Parts { iv: flip(&iv, 0), ..good.clone() }),
            ("ciphertext", Parts { ciphertext: flip(&ciphertext, 5), ..good.clone() }),
            ("last block", Parts { ciphertext: flip(&ciphertext, ciphertext.len() - 1), ..good.clone() }),
            ("tag", Parts { tag: flip(&tag, 15), ..good.clone() }),
            ("short tag", Parts { tag: tag[..15].to_vec(), ..good.clone() }),
            ("cut ciphertext", Parts { ciphertext: ciphertext[..16].to_vec(), ..good.clone() }),
            ("empty ciphertext", Parts { ciphertext: Vec::new(), ..good.clone() }),
        ];
        assert!(ours.decrypt(&good.aad, &good.iv, &good.ciphertext, &good.tag).is_some(), "untouched");
        for (name, parts) in cases {
            let Parts { aad, iv, ciphertext, tag } = parts;
            assert_eq!(ours.decrypt(&aad, &iv, &ciphertext, &tag), None, "{name}: ours");
            let josekits = A128CBC_HS256.decrypt(&key, Some(&iv), &ciphertext, &aad, Some(&tag));
            assert!(josekits.is_err(), "{name}: josekit");
        }
        let other_key = ContentKey::new(&[43u8; 32]);
        assert_eq!(other_key.decrypt(AAD, &iv, &ciphertext, &tag), None, "another key");
    }

    /// A tag made by the key's holder over the parts given: what a forger cannot make.
    fn tag_of(key: &[u8; 32], iv: &[u8], ciphertext: &[u8]) -> Vec<u8> {
        let mut mac = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, &key[..16]));
        for part in [AAD, iv, ciphertext, &((AAD.len() as u64) * 8).to_be_bytes()[..]] {
            mac.update(part);
        }
        mac.sign().as_ref()[..16].to_vec()
    }

    /// An IV of the wrong length under a tag that holds is refused, not passed to OpenSSL
    /// (whose binding would panic on a short one).
    #[test]
    fn an_iv_of_the_wrong_length_under_a_good_tag_is_refused() {
        let key = [6u8; 32];
        let (ciphertext, _) = encrypted(&key, &[2u8; 16], b"claims");
        for iv in [&[2u8; 8][..], &[2u8; 15][..], &[2u8; 17][..], &[][..]] {
            let tag = tag_of(&key, iv, &ciphertext);
            assert_eq!(ContentKey::new(&key).decrypt(AAD, iv, &ciphertext, &tag), None, "{} bytes", iv.len());
        }
    }

    /// A tag that holds over a ciphertext with bad padding (only the key's holder can make
    /// one) is still refused, not answered with garbage.
    #[test]
    fn bad_padding_under_a_good_tag_is_refused() {
        let key = [5u8; 32];
        let iv = [1u8; 16];
        let ciphertext = [0u8; 32];
        let tag = tag_of(&key, &iv, &ciphertext);
        let opened = ContentKey::new(&key).decrypt(AAD, &iv, &ciphertext, &tag);
        let josekits = A128CBC_HS256.decrypt(&key, Some(&iv), &ciphertext, AAD, Some(&tag)).ok();
        assert_eq!(opened, None, "ours");
        assert_eq!(josekits, None, "josekit's");
    }
}

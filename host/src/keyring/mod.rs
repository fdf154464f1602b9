//! The keys one consumer node holds, and the only code that uses them.
//!
//! Plugins reach these keys through the `keyring` import and never see their bytes: a plugin
//! that never holds the symmetric key cannot leak it, and RS256 through OpenSSL is ~20x
//! faster than pure Rust inside wasm (docs/architecture.md). Each key is pinned to one algorithm: a
//! signing key only verifies RS256 and an encryption key only decrypts `dir`/A128CBC-HS256,
//! so `alg` confusion (HS256 keyed with the RSA public key) has nothing to call.

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::Jwk;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use sha2::{Digest, Sha256};

use crate::crypto_time::{self, CryptoOp};
use crate::KeyError;

mod a128cbc_hs256;
mod rs256;

use a128cbc_hs256::ContentKey;
use rs256::Rs256Verifier;

/// Bytes of an A128CBC-HS256 key: 16 for HMAC-SHA-256, 16 for AES-128 (RFC 7518 §5.2.3).
pub const ENCRYPTION_KEY_BYTES: usize = 32;
/// Bytes of an A128CBC-HS256 IV and of its truncated tag (RFC 7518 §5.2.3).
pub const IV_BYTES: usize = 16;
pub const TAG_BYTES: usize = 16;

/// The SHA-256 of a key: of the public key's DER for a signing key, of the key bytes for an
/// encryption key. It is the second half of a `kid` and what `show key authz` compares across
/// nodes; it is the only form in which a key may appear in a trace or a log.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyChecksum([u8; 32]);

impl KeyChecksum {
    pub fn of(key_bytes: &[u8]) -> KeyChecksum {
        KeyChecksum(Sha256::digest(key_bytes).into())
    }

    /// The first 8 hex digits, for timelines; the trace keeps the whole checksum.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl fmt::Display for KeyChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyChecksum({self})")
    }
}

impl KeyChecksum {
    /// What `show key authz signing|encryption` prints for this key: 32 hex digits.
    pub fn show(&self) -> ShowChecksum {
        let digest = Sha256::new().chain_update(SHOW_CHECKSUM_LABEL).chain_update(self.0).finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        ShowChecksum(bytes)
    }
}

/// Assumption: the documents show `show key authz` printing a 32-hex-digit (128-bit)
/// checksum, e.g. `a155d81be734850226f990a62816f1ae`, but not which digest of what. Ours is
/// the first 128 bits of SHA-256 over this label and the key's [`KeyChecksum`]: a function of
/// the key alone, equal on two nodes exactly when they hold the same key, and visibly not a
/// prefix of the `kid`'s 64 hex digits (which a reader might otherwise compare by mistake).
pub const SHOW_CHECKSUM_LABEL: &[u8] = b"authzlab show key authz/1";

/// The checksum `show key authz` prints: 32 hex digits (see [`SHOW_CHECKSUM_LABEL`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ShowChecksum([u8; 16]);

impl fmt::Display for ShowChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Smallest RSA modulus an RS256 key may have (RFC 7518 §3.3).
pub const RSA_MODULUS_BITS_MIN: usize = 2048;
/// Largest RSA modulus accepted: OpenSSL's `OPENSSL_RSA_MAX_MODULUS_BITS`, past which it
/// refuses to verify, and a bound on the work one hostile key can ask for.
pub const RSA_MODULUS_BITS_MAX: usize = 16384;

/// Why a key could not be taken into a keyring.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("signing key {kid}: not an RSA public key: {reason}")]
    BadSigningKey { kid: String, reason: String },
    #[error(
        "signing key {kid}: the RSA modulus has {bits} bits; RS256 needs at least {RSA_MODULUS_BITS_MIN} \
         (RFC 7518 §3.3)"
    )]
    SigningKeyTooSmall { kid: String, bits: usize },
    #[error(
        "signing key {kid}: the RSA modulus has {bits} bits; at most {RSA_MODULUS_BITS_MAX} are accepted \
         (OpenSSL's limit)"
    )]
    SigningKeyTooLarge { kid: String, bits: usize },
    #[error(
        "key {kid}: `{member}` is {found:?}, but {kty} keys here {purpose}: write {wanted:?} or leave it out"
    )]
    WrongPurpose {
        kid: String,
        kty: &'static str,
        member: &'static str,
        found: String,
        wanted: &'static str,
        purpose: &'static str,
    },
    #[error("key {kid}: keys[{second}] has the same `kid` as keys[{first}]; every key needs its own")]
    DuplicateKid { kid: String, first: usize, second: usize },
    #[error("encryption key {kid}: A128CBC-HS256 needs {ENCRYPTION_KEY_BYTES} bytes, got {len}")]
    BadEncryptionKeyLength { kid: String, len: usize },
    #[error("JWK set: {0}")]
    BadJwkSet(String),
}

/// The signing and encryption keys one consumer trusts, by `kid`, and its trusted issuer.
pub struct Keyring {
    trusted_issuer: String,
    signing: BTreeMap<String, (KeyChecksum, Rs256Verifier)>,
    encryption: BTreeMap<String, (KeyChecksum, ContentKey)>,
}

impl fmt::Debug for Keyring {
    /// Kids only: key bytes never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("trusted_issuer", &self.trusted_issuer)
            .field("signing", &self.signing.keys().collect::<Vec<_>>())
            .field("encryption", &self.encryption.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// An empty keyring for a consumer that trusts tokens issued by `trusted_issuer`.
    pub fn new(trusted_issuer: impl Into<String>) -> Keyring {
        Keyring {
            trusted_issuer: trusted_issuer.into(),
            signing: BTreeMap::new(),
            encryption: BTreeMap::new(),
        }
    }

    pub fn trusted_issuer(&self) -> &str {
        &self.trusted_issuer
    }

    /// Adds an RS256 verification key (SubjectPublicKeyInfo or PKCS#1 DER).
    pub fn add_signing_key_der(&mut self, kid: &str, public_der: &[u8]) -> Result<(), KeyringError> {
        let bad = |reason: String| KeyringError::BadSigningKey { kid: kid.to_string(), reason };
        let public = rsa::RsaPublicKey::from_public_key_der(public_der)
            .or_else(|_| rsa::pkcs1::DecodeRsaPublicKey::from_pkcs1_der(public_der))
            .map_err(|e| bad(format!("{e}")))?;
        check_modulus_bits(kid, rsa::traits::PublicKeyParts::n(&public).bits())?;
        let spki = public.to_public_key_der().map_err(|e| bad(e.to_string()))?;
        let verifier = Rs256Verifier::from_spki_der(spki.as_bytes()).map_err(bad)?;
        self.signing.insert(kid.to_string(), (KeyChecksum::of(public_der), verifier));
        Ok(())
    }

    /// Adds an A128CBC-HS256 content-encryption key.
    pub fn add_encryption_key(&mut self, kid: &str, key: &[u8]) -> Result<(), KeyringError> {
        let bytes: [u8; ENCRYPTION_KEY_BYTES] = key
            .try_into()
            .map_err(|_| KeyringError::BadEncryptionKeyLength { kid: kid.to_string(), len: key.len() })?;
        self.encryption.insert(kid.to_string(), (KeyChecksum::of(key), ContentKey::new(&bytes)));
        Ok(())
    }

    /// Builds a keyring from a JWK Set (RFC 7517): `RSA` keys verify RS256, `oct` keys decrypt
    /// `dir`/A128CBC-HS256; a `use` or `alg` member, when present, must say so. Every key needs
    /// its own `kid`: with two alike, which one a token meets would depend on file order.
    pub fn from_jwk_set(
        trusted_issuer: impl Into<String>,
        set: &serde_json::Value,
    ) -> Result<Keyring, KeyringError> {
        let mut keyring = Keyring::new(trusted_issuer);
        let keys = set
            .get("keys")
            .and_then(|keys| keys.as_array())
            .ok_or_else(|| KeyringError::BadJwkSet("no `keys` array".into()))?;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (index, key) in keys.iter().enumerate() {
            let map = key
                .as_object()
                .ok_or_else(|| KeyringError::BadJwkSet(format!("keys[{index}] is not an object")))?;
            let jwk = Jwk::from_map(map.clone())
                .map_err(|e| KeyringError::BadJwkSet(format!("keys[{index}]: {e}")))?;
            let kid = jwk
                .key_id()
                .ok_or_else(|| KeyringError::BadJwkSet(format!("keys[{index}] has no `kid`")))?
                .to_string();
            if let Some(first) = seen.insert(kid.clone(), index) {
                return Err(KeyringError::DuplicateKid { kid, first, second: index });
            }
            match jwk.key_type() {
                "RSA" => {
                    check_purpose(&jwk, &kid, "RSA", "sig", "RS256", "verify RS256 signatures")?;
                    let bad = |reason: String| KeyringError::BadSigningKey { kid: kid.clone(), reason };
                    let public = rsa_public_key(&jwk).map_err(bad)?;
                    check_modulus_bits(&kid, rsa::traits::PublicKeyParts::n(&public).bits())?;
                    let public_der = public.to_public_key_der().map_err(|e| bad(e.to_string()))?.into_vec();
                    let verifier = Rs256Verifier::from_spki_der(&public_der).map_err(bad)?;
                    keyring.signing.insert(kid, (KeyChecksum::of(&public_der), verifier));
                }
                "oct" => {
                    check_purpose(&jwk, &kid, "oct", "enc", "dir", "decrypt dir/A128CBC-HS256 tokens")?;
                    let k = jwk
                        .parameter("k")
                        .and_then(|k| k.as_str())
                        .ok_or_else(|| KeyringError::BadJwkSet(format!("keys[{index}] (oct) has no `k`")))?;
                    let bytes = URL_SAFE_NO_PAD.decode(k).map_err(|_| {
                        KeyringError::BadJwkSet(format!("keys[{index}] `k` is not base64url"))
                    })?;
                    keyring.add_encryption_key(&kid, &bytes)?;
                }
                other => {
                    return Err(KeyringError::BadJwkSet(format!(
                        "keys[{index}] has kty {other:?}; only RSA and oct are used"
                    )))
                }
            }
        }
        Ok(keyring)
    }

    /// The signing keys held, as (kid, checksum), in kid order.
    pub fn signing_keys(&self) -> impl Iterator<Item = (&str, KeyChecksum)> {
        self.signing.iter().map(|(kid, (checksum, _))| (kid.as_str(), *checksum))
    }

    /// The encryption keys held, as (kid, checksum), in kid order.
    pub fn encryption_keys(&self) -> impl Iterator<Item = (&str, KeyChecksum)> {
        self.encryption.iter().map(|(kid, (checksum, _))| (kid.as_str(), *checksum))
    }

    /// `Ok(false)` when the signature is wrong, `Err(UnknownKid)` when no key has `kid`.
    pub fn verify_rs256(&self, kid: &str, signing_input: &[u8], signature: &[u8]) -> Result<bool, KeyError> {
        let (_, verifier) = self.signing.get(kid).ok_or_else(|| KeyError::UnknownKid(kid.to_string()))?;
        Ok(crypto_time::measure(CryptoOp::RsaVerify, || verifier.verify(signing_input, signature)))
    }

    /// Decrypts a compact JWE's parts; `Ok(None)` when the tag does not verify.
    pub fn decrypt_dir_a128cbc_hs256(
        &self,
        kid: &str,
        protected_b64: &str,
        iv: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<Option<Vec<u8>>, KeyError> {
        let (_, key) = self.encryption.get(kid).ok_or_else(|| KeyError::UnknownKid(kid.to_string()))?;
        if iv.len() != IV_BYTES {
            return Err(KeyError::BadInput(format!("JWE IV has {} bytes, not {IV_BYTES}", iv.len())));
        }
        if tag.len() != TAG_BYTES {
            return Err(KeyError::BadInput(format!("JWE tag has {} bytes, not {TAG_BYTES}", tag.len())));
        }
        Ok(crypto_time::measure(CryptoOp::Decrypt, || {
            key.decrypt(protected_b64.as_bytes(), iv, ciphertext, tag)
        }))
    }
}

/// An RSA JWK's public key. Its SubjectPublicKeyInfo DER gives a key read from a JWK Set the
/// checksum (and so the `kid` half) it has when received as DER.
fn rsa_public_key(jwk: &Jwk) -> Result<rsa::RsaPublicKey, String> {
    let integer = |name: &str| {
        let text = jwk.parameter(name).and_then(|value| value.as_str()).ok_or(format!("no `{name}`"))?;
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| format!("`{name}` is not base64url"))?;
        Ok::<_, String>(rsa::BigUint::from_bytes_be(&bytes))
    };
    let (n, e) = (integer("n")?, integer("e")?);
    // The size is checked by `check_modulus_bits` with its own message; here only the shape.
    rsa::RsaPublicKey::new_with_max_size(n, e, usize::MAX).map_err(|e| e.to_string())
}

fn check_modulus_bits(kid: &str, bits: usize) -> Result<(), KeyringError> {
    if bits < RSA_MODULUS_BITS_MIN {
        return Err(KeyringError::SigningKeyTooSmall { kid: kid.to_string(), bits });
    }
    if bits > RSA_MODULUS_BITS_MAX {
        return Err(KeyringError::SigningKeyTooLarge { kid: kid.to_string(), bits });
    }
    Ok(())
}

/// A JWK's `use` and `alg`, when present, must name what this kind of key is pinned to.
fn check_purpose(
    jwk: &Jwk,
    kid: &str,
    kty: &'static str,
    wanted_use: &'static str,
    wanted_alg: &'static str,
    purpose: &'static str,
) -> Result<(), KeyringError> {
    for (member, wanted) in [("use", wanted_use), ("alg", wanted_alg)] {
        match jwk.parameter(member) {
            None => {}
            Some(serde_json::Value::String(found)) if found == wanted => {}
            Some(found) => {
                let found = found.as_str().map_or_else(|| found.to_string(), str::to_string);
                return Err(KeyringError::WrongPurpose {
                    kid: kid.to_string(),
                    kty,
                    member,
                    found,
                    wanted,
                    purpose,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OCT_KID: &str = "cluster:enc";

    fn oct_set(k: &str) -> serde_json::Value {
        serde_json::json!({ "keys": [ { "kty": "oct", "kid": OCT_KID, "use": "enc", "alg": "dir", "k": k } ] })
    }

    #[test]
    fn the_show_checksum_is_32_hex_digits_of_the_key_alone_and_not_the_kid_prefix() {
        let one = KeyChecksum::of(b"one key");
        let shown = one.show().to_string();
        assert_eq!(shown.len(), 32);
        assert!(shown.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(shown, KeyChecksum::of(b"one key").show().to_string(), "same key, same checksum");
        assert_ne!(shown, KeyChecksum::of(b"another key").show().to_string());
        assert!(!one.to_string().starts_with(&shown[..8]), "not the kid's digits");
    }

    #[test]
    fn encryption_keys_must_be_32_bytes() {
        let mut keyring = Keyring::new("cluster");
        assert!(keyring.add_encryption_key("k", &[7u8; 32]).is_ok());
        let error = keyring.add_encryption_key("short", &[7u8; 16]).unwrap_err();
        assert!(error.to_string().contains("needs 32 bytes, got 16"), "{error}");
    }

    #[test]
    fn unknown_kids_and_bad_lengths_are_told_apart() {
        let mut keyring = Keyring::new("cluster");
        keyring.add_encryption_key("k", &[7u8; 32]).unwrap();
        assert_eq!(
            keyring.decrypt_dir_a128cbc_hs256("other", "e30", &[0; 16], &[0; 16], &[0; 16]),
            Err(KeyError::UnknownKid("other".into()))
        );
        assert!(matches!(
            keyring.decrypt_dir_a128cbc_hs256("k", "e30", &[0; 8], &[0; 16], &[0; 16]),
            Err(KeyError::BadInput(_))
        ));
        // Right shapes, wrong tag: not decrypted, no error.
        assert_eq!(keyring.decrypt_dir_a128cbc_hs256("k", "e30", &[0; 16], &[0; 16], &[0; 16]), Ok(None));
        assert_eq!(keyring.verify_rs256("nope", b"x", b"y"), Err(KeyError::UnknownKid("nope".into())));
    }

    #[test]
    fn jwk_sets_load_and_bad_ones_say_why() {
        let keyring = Keyring::from_jwk_set("cluster", &oct_set(&URL_SAFE_NO_PAD.encode([1u8; 32]))).unwrap();
        assert_eq!(keyring.encryption_keys().count(), 1);
        assert_eq!(keyring.signing_keys().count(), 0);
        let error = Keyring::from_jwk_set("cluster", &serde_json::json!({})).unwrap_err();
        assert!(error.to_string().contains("no `keys` array"), "{error}");
        let error = Keyring::from_jwk_set("cluster", &oct_set("!!")).unwrap_err();
        assert!(error.to_string().contains("keys[0]") && error.to_string().contains("base64"), "{error}");
        let error = Keyring::from_jwk_set("cluster", &serde_json::json!({"keys":[{"kty":"EC","kid":"x"}]}))
            .unwrap_err();
        assert!(error.to_string().contains("EC"), "{error}");
    }

    /// An RSA JWK with a modulus of `bits` bits (odd, top bit set: the shape of a real one).
    fn rsa_jwk(kid: &str, bits: usize, extra: serde_json::Value) -> serde_json::Value {
        let mut n = vec![0x5au8; bits.div_ceil(8)];
        n[0] = 0x80 >> ((8 - bits % 8) % 8);
        *n.last_mut().unwrap() |= 1;
        let mut key =
            serde_json::json!({ "kty": "RSA", "kid": kid, "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB" });
        key.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        key
    }

    fn load_one(key: serde_json::Value) -> Result<Keyring, KeyringError> {
        Keyring::from_jwk_set("cluster", &serde_json::json!({ "keys": [key] }))
    }

    #[test]
    fn rsa_key_errors_say_which_rule_the_key_breaks() {
        assert!(load_one(rsa_jwk("ok", 2048, serde_json::json!({"use": "sig", "alg": "RS256"}))).is_ok());

        let small = load_one(rsa_jwk("small", 1024, serde_json::json!({}))).unwrap_err();
        assert!(matches!(small, KeyringError::SigningKeyTooSmall { bits: 1024, .. }), "{small}");
        assert!(small.to_string().contains("has 1024 bits; RS256 needs at least 2048"), "{small}");

        let large = load_one(rsa_jwk("large", 16392, serde_json::json!({}))).unwrap_err();
        assert!(matches!(large, KeyringError::SigningKeyTooLarge { bits: 16392, .. }), "{large}");
        assert!(large.to_string().contains("at most 16384"), "{large}");
        assert!(!large.to_string().contains("or more"), "not the too-small wording: {large}");

        let wrong_use = load_one(rsa_jwk("enc-rsa", 2048, serde_json::json!({"use": "enc"}))).unwrap_err();
        assert_eq!(
            wrong_use.to_string(),
            "key enc-rsa: `use` is \"enc\", but RSA keys here verify RS256 signatures: write \"sig\" or leave it out"
        );
        let wrong_alg = load_one(rsa_jwk("ps", 2048, serde_json::json!({"alg": "PS256"}))).unwrap_err();
        assert!(wrong_alg.to_string().contains("`alg` is \"PS256\""), "{wrong_alg}");

        let oct = serde_json::json!({ "kty": "oct", "kid": "k", "use": "sig", "k": URL_SAFE_NO_PAD.encode([1u8; 32]) });
        let wrong_oct = load_one(oct).unwrap_err();
        assert!(wrong_oct.to_string().contains("oct keys here decrypt"), "{wrong_oct}");

        let bad_der = Keyring::new("c").add_signing_key_der("der", b"not der").unwrap_err();
        assert!(bad_der.to_string().starts_with("signing key der: not an RSA public key: "), "{bad_der}");
    }

    #[test]
    fn a_kid_used_twice_is_refused_naming_both_places() {
        let key =
            |k: u8| serde_json::json!({ "kty": "oct", "kid": "same", "k": URL_SAFE_NO_PAD.encode([k; 32]) });
        let error =
            Keyring::from_jwk_set("cluster", &serde_json::json!({ "keys": [key(1), key(2)] })).unwrap_err();
        assert!(matches!(error, KeyringError::DuplicateKid { first: 0, second: 1, .. }), "{error}");
        assert!(error.to_string().contains("keys[1] has the same `kid` as keys[0]"), "{error}");
    }

    #[test]
    fn debug_output_names_kids_never_key_bytes() {
        let key = [0xabu8; 32];
        let mut keyring = Keyring::new("cluster");
        keyring.add_encryption_key("the-kid", &key).unwrap();
        let shown = format!("{keyring:?}");
        assert!(shown.contains("the-kid"));
        assert!(!shown.contains(&hex::encode(key)) && !shown.contains("171"), "{shown}");
    }

    #[test]
    fn checksums_print_as_sha256_hex() {
        let checksum = KeyChecksum::of(b"abc");
        assert_eq!(checksum.to_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(checksum.short(), "ba7816bf");
    }
}

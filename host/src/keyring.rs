//! The keys one consumer node holds, and the only code that uses them.
//!
//! Plugins reach these keys through the `keyring` import and never see their bytes: a plugin
//! that never holds the symmetric key cannot leak it, and RS256 through OpenSSL is ~20x
//! faster than pure Rust inside wasm (DESIGN.md). Each key is pinned to one algorithm: a
//! signing key only verifies RS256 and an encryption key only decrypts `dir`/A128CBC-HS256,
//! so `alg` confusion (HS256 keyed with the RSA public key) has nothing to call.

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwe::enc::A128CBC_HS256;
use josekit::jwe::JweContentEncryption;
use josekit::jwk::Jwk;
use josekit::jws::alg::rsassa::RsassaJwsVerifier;
use josekit::jws::{JwsVerifier, RS256};
use rsa::pkcs8::EncodePublicKey;
use sha2::{Digest, Sha256};

use crate::KeyError;

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

/// Why a key could not be taken into a keyring.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("signing key {kid}: not an RSA public key of 2048 bits or more ({reason})")]
    BadSigningKey { kid: String, reason: String },
    #[error("encryption key {kid}: A128CBC-HS256 needs {ENCRYPTION_KEY_BYTES} bytes, got {len}")]
    BadEncryptionKeyLength { kid: String, len: usize },
    #[error("JWK set: {0}")]
    BadJwkSet(String),
}

/// The signing and encryption keys one consumer trusts, by `kid`, and its trusted issuer.
pub struct Keyring {
    trusted_issuer: String,
    signing: BTreeMap<String, (KeyChecksum, RsassaJwsVerifier)>,
    encryption: BTreeMap<String, (KeyChecksum, [u8; ENCRYPTION_KEY_BYTES])>,
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
        let verifier = RS256
            .verifier_from_der(public_der)
            .map_err(|e| KeyringError::BadSigningKey { kid: kid.to_string(), reason: e.to_string() })?;
        self.signing.insert(kid.to_string(), (KeyChecksum::of(public_der), verifier));
        Ok(())
    }

    /// Adds an A128CBC-HS256 content-encryption key.
    pub fn add_encryption_key(&mut self, kid: &str, key: &[u8]) -> Result<(), KeyringError> {
        let bytes: [u8; ENCRYPTION_KEY_BYTES] = key
            .try_into()
            .map_err(|_| KeyringError::BadEncryptionKeyLength { kid: kid.to_string(), len: key.len() })?;
        self.encryption.insert(kid.to_string(), (KeyChecksum::of(key), bytes));
        Ok(())
    }

    /// Builds a keyring from a JWK Set (RFC 7517): `RSA` keys with `use: sig` or `alg: RS256`
    /// verify, `oct` keys with `use: enc` or `alg: dir` decrypt. Every key needs a `kid`.
    pub fn from_jwk_set(
        trusted_issuer: impl Into<String>,
        set: &serde_json::Value,
    ) -> Result<Keyring, KeyringError> {
        let mut keyring = Keyring::new(trusted_issuer);
        let keys = set
            .get("keys")
            .and_then(|keys| keys.as_array())
            .ok_or_else(|| KeyringError::BadJwkSet("no `keys` array".into()))?;
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
            match jwk.key_type() {
                "RSA" => {
                    let bad = |reason: String| KeyringError::BadSigningKey { kid: kid.clone(), reason };
                    // josekit checks `use`, `key_ops`, `alg` and the key size.
                    let verifier = RS256.verifier_from_jwk(&jwk).map_err(|e| bad(e.to_string()))?;
                    let public_der = rsa_public_der(&jwk).map_err(bad)?;
                    keyring.signing.insert(kid, (KeyChecksum::of(&public_der), verifier));
                }
                "oct" => {
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
        Ok(verifier.verify(signing_input, signature).is_ok())
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
        Ok(A128CBC_HS256.decrypt(key, Some(iv), ciphertext, protected_b64.as_bytes(), Some(tag)).ok())
    }
}

/// The SubjectPublicKeyInfo DER of an RSA JWK: a key read from a JWK Set gets the checksum
/// (and so the `kid` half) it has when received as DER.
fn rsa_public_der(jwk: &Jwk) -> Result<Vec<u8>, String> {
    let integer = |name: &str| {
        let text = jwk.parameter(name).and_then(|value| value.as_str()).ok_or(format!("no `{name}`"))?;
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| format!("`{name}` is not base64url"))?;
        Ok::<_, String>(rsa::BigUint::from_bytes_be(&bytes))
    };
    let public = rsa::RsaPublicKey::new(integer("n")?, integer("e")?).map_err(|e| e.to_string())?;
    Ok(public.to_public_key_der().map_err(|e| e.to_string())?.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OCT_KID: &str = "cluster:enc";

    fn oct_set(k: &str) -> serde_json::Value {
        serde_json::json!({ "keys": [ { "kty": "oct", "kid": OCT_KID, "use": "enc", "alg": "dir", "k": k } ] })
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

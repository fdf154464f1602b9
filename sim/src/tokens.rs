//! The publisher's AuthZ token service: its keys and the tokens it mints, exactly in the
//! format of the real system (docs/domain.md "Token formats", docs/architecture.md "Tokens").
//!
//! - Access token: JWS RS256 `{"alg","typ","kid"}` whose payload is `{"private": JWE}`; the
//!   JWE is `dir` + `A128CBC-HS256` with `{"alg","cty","enc","kid"}` and an empty encrypted-key
//!   part; its plaintext is a nested JWT ([`INNER_HEADER`]: RS256 with the same signing key,
//!   an assumption) whose payload is the claims.
//! - Refresh token: JWS RS256 whose payload is `{"exp","iss","typ","tid","ctyp","ccid"}`.
//!
//! Minting is deterministic: RS256 (PKCS#1 v1.5) signatures are, and the JWE IV comes from
//! the seeded `jwe-iv` stream instead of josekit's `JweContext`, which draws its own.

use std::fmt;

use authzlab_host::crypto_time::{self, CryptoOp};
use authzlab_host::keyring::ENCRYPTION_KEY_BYTES;
use authzlab_host::{KeyChecksum, Keyring};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use josekit::jwe::enc::A128CBC_HS256;
use josekit::jwe::JweContentEncryption;
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::key_pool::KeyDraw;
use crate::seeds::Seeds;

/// OAuth Access Token Expiry Timer bounds and default, minutes (docs/domain.md "Lifetimes").
pub const ACCESS_EXPIRY_MINUTES_MIN: u64 = 1;
pub const ACCESS_EXPIRY_MINUTES_MAX: u64 = 1440;
pub const ACCESS_EXPIRY_MINUTES_DEFAULT: u64 = 60;
/// OAuth Refresh Token Expiry Timer bounds and default, days (docs/domain.md "Lifetimes").
pub const REFRESH_EXPIRY_DAYS_MIN: u64 = 1;
pub const REFRESH_EXPIRY_DAYS_MAX: u64 = 90;
pub const REFRESH_EXPIRY_DAYS_DEFAULT: u64 = 60;
pub use crate::key_pool::{SigningKey, SIGNING_KEY_BITS};
/// A128CBC-HS256's IV.
const IV_BYTES: usize = 16;

const _: () = assert!(ACCESS_EXPIRY_MINUTES_MIN <= ACCESS_EXPIRY_MINUTES_DEFAULT);
const _: () = assert!(ACCESS_EXPIRY_MINUTES_DEFAULT <= ACCESS_EXPIRY_MINUTES_MAX);
const _: () = assert!(REFRESH_EXPIRY_DAYS_MIN <= REFRESH_EXPIRY_DAYS_DEFAULT);
const _: () = assert!(REFRESH_EXPIRY_DAYS_DEFAULT <= REFRESH_EXPIRY_DAYS_MAX);

/// Token lifetimes, checked against the enterprise parameters' bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_s: u64,
    pub refresh_s: u64,
}

/// A lifetime outside the bounds the real system allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeError {
    #[error(
        "OAuth Access Token Expiry Timer must be {ACCESS_EXPIRY_MINUTES_MIN} to \
         {ACCESS_EXPIRY_MINUTES_MAX} whole minutes, got {0} s"
    )]
    Access(u64),
    #[error(
        "OAuth Refresh Token Expiry Timer must be {REFRESH_EXPIRY_DAYS_MIN} to \
         {REFRESH_EXPIRY_DAYS_MAX} whole days, got {0} s"
    )]
    Refresh(u64),
}

impl Lifetimes {
    /// The enterprise parameters' defaults: 60 minutes and 60 days.
    pub fn defaults() -> Lifetimes {
        Lifetimes {
            access_s: ACCESS_EXPIRY_MINUTES_DEFAULT * 60,
            refresh_s: REFRESH_EXPIRY_DAYS_DEFAULT * 86_400,
        }
    }

    /// Lifetimes in seconds; each must be a whole number of the parameter's unit within its
    /// bounds, as the administration page only accepts such values.
    pub fn new(access_s: u64, refresh_s: u64) -> Result<Lifetimes, LifetimeError> {
        let access_ok = access_s.is_multiple_of(60)
            && (ACCESS_EXPIRY_MINUTES_MIN..=ACCESS_EXPIRY_MINUTES_MAX).contains(&(access_s / 60));
        if !access_ok {
            return Err(LifetimeError::Access(access_s));
        }
        let refresh_ok = refresh_s.is_multiple_of(86_400)
            && (REFRESH_EXPIRY_DAYS_MIN..=REFRESH_EXPIRY_DAYS_MAX).contains(&(refresh_s / 86_400));
        if !refresh_ok {
            return Err(LifetimeError::Refresh(refresh_s));
        }
        Ok(Lifetimes { access_s, refresh_s })
    }
}

/// An expiry timer an administrator can change (System > Enterprise Parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryTimer {
    /// OAuth Access Token Expiry Timer.
    AccessTokenExpiry,
    /// OAuth Refresh Token Expiry Timer.
    RefreshTokenExpiry,
}

impl fmt::Display for ExpiryTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExpiryTimer::AccessTokenExpiry => "access_token_expiry",
            ExpiryTimer::RefreshTokenExpiry => "refresh_token_expiry",
        })
    }
}

impl Lifetimes {
    /// These lifetimes with `timer` set to `value_s`, if that is within its bounds. Tokens
    /// already issued keep the lifetime they were issued with (their `exp`).
    pub fn with(self, timer: ExpiryTimer, value_s: u64) -> Result<Lifetimes, LifetimeError> {
        match timer {
            ExpiryTimer::AccessTokenExpiry => Lifetimes::new(value_s, self.refresh_s),
            ExpiryTimer::RefreshTokenExpiry => Lifetimes::new(self.access_s, value_s),
        }
    }
}

/// Which AuthZ key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    Signing,
    Encryption,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Signing => "signing",
            KeyKind::Encryption => "encryption",
        })
    }
}

/// The symmetric key AuthZ encrypts access-token claims with.
#[derive(Clone)]
pub struct EncryptionKey {
    bytes: [u8; ENCRYPTION_KEY_BYTES],
    checksum: KeyChecksum,
}

impl EncryptionKey {
    pub fn generate(rng: &mut ChaCha20Rng) -> EncryptionKey {
        let mut bytes = [0u8; ENCRYPTION_KEY_BYTES];
        rng.fill_bytes(&mut bytes);
        EncryptionKey { bytes, checksum: KeyChecksum::of(&bytes) }
    }

    /// The key from its bytes (a keys file's), exactly [`ENCRYPTION_KEY_BYTES`] of them.
    pub fn from_bytes(bytes: &[u8]) -> Result<EncryptionKey, String> {
        let bytes: [u8; ENCRYPTION_KEY_BYTES] =
            bytes.try_into().map_err(|_| format!("{} bytes, not {ENCRYPTION_KEY_BYTES}", bytes.len()))?;
        Ok(EncryptionKey { bytes, checksum: KeyChecksum::of(&bytes) })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn checksum(&self) -> KeyChecksum {
        self.checksum
    }
}

/// The cluster's AuthZ keys, generated on the publisher only. The signing and encryption keys
/// always have different checksums (one hashes an RSA public key, the other 32 random bytes).
#[derive(Clone)]
pub struct AuthzKeys {
    cluster_id: String,
    pub signing: SigningKey,
    pub encryption: EncryptionKey,
}

impl AuthzKeys {
    /// The signing key from this run's `draw` of the key pool, the encryption key from `rng`.
    pub fn generate(cluster_id: &str, draw: &mut KeyDraw, rng: &mut ChaCha20Rng) -> AuthzKeys {
        AuthzKeys {
            cluster_id: cluster_id.to_string(),
            signing: draw.next_signing_key(),
            encryption: EncryptionKey::generate(rng),
        }
    }

    /// Keys from elsewhere (a plugin author's keys file).
    pub fn from_parts(cluster_id: String, signing: SigningKey, encryption: EncryptionKey) -> AuthzKeys {
        AuthzKeys { cluster_id, signing, encryption }
    }

    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// `<cluster-uuid>:<sha256-hex of the signing public key>`, the JWS `kid`.
    pub fn signing_kid(&self) -> String {
        format!("{}:{}", self.cluster_id, self.signing.checksum())
    }

    /// `<cluster-uuid>:<sha256-hex of the encryption key>`, the JWE `kid`.
    pub fn encryption_kid(&self) -> String {
        format!("{}:{}", self.cluster_id, self.encryption.checksum)
    }

    /// Replaces one key; every access token issued before is invalid from now on.
    pub fn regenerate(&mut self, kind: KeyKind, draw: &mut KeyDraw, rng: &mut ChaCha20Rng) {
        match kind {
            KeyKind::Signing => self.signing = draw.next_signing_key(),
            KeyKind::Encryption => self.encryption = EncryptionKey::generate(rng),
        }
    }

    /// The secret keys (the signing private key, the encryption key) in every text form a
    /// leak could take: base64, base64url and hex. For the `no_key_material_in_trace` check.
    pub fn secret_forms(&self) -> Vec<String> {
        use base64::engine::general_purpose::STANDARD_NO_PAD;
        [self.signing.private_der(), self.encryption.bytes()]
            .into_iter()
            .flat_map(|secret| {
                [STANDARD_NO_PAD.encode(secret), URL_SAFE_NO_PAD.encode(secret), hex::encode(secret)]
            })
            .collect()
    }

    pub fn checksum(&self, kind: KeyKind) -> KeyChecksum {
        match kind {
            KeyKind::Signing => self.signing.checksum(),
            KeyKind::Encryption => self.encryption.checksum,
        }
    }

    /// The keys as a consumer holds them after a sync or fetch.
    pub fn keyring(&self) -> Keyring {
        KeyBundle::from_keys(self).keyring().expect("keys this service generated load")
    }

    /// A JWK Set with both keys (for vectors files).
    pub fn jwk_set(&self) -> serde_json::Value {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;
        let public = rsa::RsaPublicKey::from_public_key_der(self.signing.public_der())
            .expect("our own SPKI DER decodes");
        serde_json::json!({ "keys": [
            { "kty": "RSA", "kid": self.signing_kid(), "use": "sig", "alg": "RS256",
              "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
              "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()) },
            { "kty": "oct", "kid": self.encryption_kid(), "use": "enc", "alg": "dir",
              "k": URL_SAFE_NO_PAD.encode(self.encryption.bytes) },
        ]})
    }
}

/// The keys as they travel to subscribers (push) and consumers (fetch). This crosses the
/// simulated network only; the trace records checksums.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyBundle {
    pub cluster_id: String,
    pub signing_kid: String,
    /// SubjectPublicKeyInfo DER, base64.
    pub signing_public_der: String,
    pub encryption_kid: String,
    /// The symmetric key, base64.
    pub encryption_key: String,
}

impl KeyBundle {
    pub fn from_keys(keys: &AuthzKeys) -> KeyBundle {
        KeyBundle {
            cluster_id: keys.cluster_id.clone(),
            signing_kid: keys.signing_kid(),
            signing_public_der: STANDARD.encode(keys.signing.public_der()),
            encryption_kid: keys.encryption_kid(),
            encryption_key: STANDARD.encode(keys.encryption.bytes),
        }
    }

    /// A consumer's keyring holding exactly these keys.
    pub fn keyring(&self) -> Result<Keyring, String> {
        let der = STANDARD.decode(&self.signing_public_der).map_err(|e| format!("signing key: {e}"))?;
        let key = STANDARD.decode(&self.encryption_key).map_err(|e| format!("encryption key: {e}"))?;
        let mut keyring = Keyring::new(self.cluster_id.clone());
        keyring.add_signing_key_der(&self.signing_kid, &der).map_err(|e| e.to_string())?;
        keyring.add_encryption_key(&self.encryption_kid, &key).map_err(|e| e.to_string())?;
        Ok(keyring)
    }
}

/// The claims inside an access token's JWE, in the seed format's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub client_id: String,
    /// Space-separated, as OAuth writes scopes.
    pub scope: String,
    pub tid: String,
    pub typ: String,
    pub ctyp: String,
    pub iat: u64,
    pub exp: u64,
}

/// A refresh token's payload, in the seed format's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub exp: u64,
    pub iss: String,
    pub typ: String,
    pub tid: String,
    pub ctyp: String,
    pub ccid: String,
}

#[derive(Serialize)]
struct JwsHeader<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

#[derive(Serialize)]
struct JweHeader<'a> {
    alg: &'a str,
    cty: &'a str,
    enc: &'a str,
    kid: &'a str,
}

/// The header of the JWT inside an access token's JWE. The documents show only that the JWE
/// says `cty: "JWT"` and that its ciphertext is 624 bytes, so the plaintext is itself a JWT;
/// its header and signature are not in them. Ours (assumption): RS256 with the same signing
/// key as the outer JWS, so a consumer needs no key beyond the two it already holds, and no
/// `kid`, because the outer header already names that key (without it the ciphertext is 704
/// bytes, near the sample's 624; with it, about 850).
pub const INNER_HEADER: &str = r#"{"alg":"RS256","typ":"JWT"}"#;

#[derive(Serialize)]
struct PrivatePayload<'a> {
    private: &'a str,
}

/// A token just minted: the compact form for the client, the id and expiry for the trace.
#[derive(Clone, Debug)]
pub struct Minted {
    pub token: String,
    pub tid: String,
    pub exp: u64,
}

/// The scope AuthZ grants Jabber and phones.
pub const SCOPE_DEFAULT: &str = "UnifiedCommunications:readwrite";

/// Mints tokens with the publisher's current keys.
pub struct TokenService {
    pub keys: AuthzKeys,
    pub lifetimes: Lifetimes,
    ids: ChaCha20Rng,
    ivs: ChaCha20Rng,
    keygen: ChaCha20Rng,
    signing_keys: KeyDraw,
}

impl TokenService {
    /// The publisher at first boot: a cluster id and both keys from the seed.
    pub fn new(seeds: &Seeds, lifetimes: Lifetimes) -> TokenService {
        let cluster_id = uuid_v4(&mut seeds.rng("cluster-id"));
        let mut keygen = seeds.rng("authz-keys");
        let mut signing_keys = KeyDraw::new(&mut seeds.rng("signing-keys"));
        TokenService {
            keys: AuthzKeys::generate(&cluster_id, &mut signing_keys, &mut keygen),
            lifetimes,
            ids: seeds.rng("token-ids"),
            ivs: seeds.rng("jwe-iv"),
            keygen,
            signing_keys,
        }
    }

    /// Minting with `keys` (a plugin author's); token ids and IVs from `seeds`.
    pub fn with_keys(keys: AuthzKeys, seeds: &Seeds, lifetimes: Lifetimes) -> TokenService {
        TokenService {
            keys,
            lifetimes,
            ids: seeds.rng("token-ids"),
            ivs: seeds.rng("jwe-iv"),
            keygen: seeds.rng("authz-keys"),
            signing_keys: KeyDraw::new(&mut seeds.rng("signing-keys")),
        }
    }

    /// `set key regen authz signing|encryption` on the publisher.
    pub fn regenerate(&mut self, kind: KeyKind) {
        self.keys.regenerate(kind, &mut self.signing_keys, &mut self.keygen);
    }

    pub fn mint_access(&mut self, user: &str, client_id: &str, now_s: u64) -> Minted {
        let claims = AccessClaims {
            iss: self.keys.cluster_id.clone(),
            sub: user.to_string(),
            client_id: client_id.to_string(),
            scope: SCOPE_DEFAULT.to_string(),
            tid: uuid_v4(&mut self.ids),
            typ: "user".to_string(),
            ctyp: "access".to_string(),
            iat: now_s,
            exp: now_s + self.lifetimes.access_s,
        };
        let token = self.seal_access(&claims);
        Minted { token, tid: claims.tid, exp: claims.exp }
    }

    pub fn mint_refresh(&mut self, client_id: &str, now_s: u64) -> Minted {
        let claims = RefreshClaims {
            exp: now_s + self.lifetimes.refresh_s,
            iss: self.keys.cluster_id.clone(),
            typ: "user".to_string(),
            tid: uuid_v4(&mut self.ids),
            ctyp: "refresh".to_string(),
            ccid: client_id_hash(client_id),
        };
        let payload = serde_json::to_vec(&claims).expect("claims serialize");
        let token = self.sign(&payload);
        Minted { token, tid: claims.tid, exp: claims.exp }
    }

    /// An access token with exactly these claims (vectors and tests build odd ones).
    pub fn seal_access(&mut self, claims: &AccessClaims) -> String {
        let inner = self.inner_jwt(&serde_json::to_vec(claims).expect("claims serialize"));
        self.seal_inner(inner.as_bytes())
    }

    /// An access token whose JWE holds `plaintext` as given (the conformance suite puts odd
    /// inner JWTs, or none, there).
    pub fn seal_inner(&mut self, plaintext: &[u8]) -> String {
        let jwe = self.encrypt(plaintext);
        let payload = serde_json::to_vec(&PrivatePayload { private: &jwe }).expect("payload serializes");
        self.sign(&payload)
    }

    /// The nested JWT an access token's JWE carries: `claims` under [`INNER_HEADER`], signed
    /// with the current signing key.
    pub fn inner_jwt(&self, claims: &[u8]) -> String {
        self.sign_with_header(INNER_HEADER.as_bytes(), claims)
    }

    /// A compact JWS RS256 over `payload` with the current signing key.
    pub fn sign(&self, payload: &[u8]) -> String {
        let kid = self.keys.signing_kid();
        let header = JwsHeader { alg: "RS256", typ: "JWT", kid: &kid };
        self.sign_with_header(&serde_json::to_vec(&header).expect("header serializes"), payload)
    }

    /// A compact JWS of `payload` under the JSON `header` as given, signed RS256 with the
    /// current signing key whatever the header says (the conformance suite forges headers).
    pub fn sign_with_header(&self, header: &[u8], payload: &[u8]) -> String {
        let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let signature = self.keys.signing.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A compact JWE (`dir`, A128CBC-HS256) of `plaintext` with the current encryption key
    /// and an IV from the seeded stream.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> String {
        let kid = self.keys.encryption_kid();
        let header = JweHeader { alg: "dir", cty: "JWT", enc: "A128CBC-HS256", kid: &kid };
        self.encrypt_with_header(&serde_json::to_vec(&header).expect("header serializes"), plaintext)
    }

    /// A compact `dir` JWE of `plaintext` under the JSON protected `header` as given, made
    /// A128CBC-HS256 with the current encryption key whatever the header says (the
    /// conformance suite forges headers).
    pub fn encrypt_with_header(&mut self, header: &[u8], plaintext: &[u8]) -> String {
        let protected = URL_SAFE_NO_PAD.encode(header);
        let mut iv = [0u8; IV_BYTES];
        self.ivs.fill_bytes(&mut iv);
        let (ciphertext, tag) = crypto_time::measure(CryptoOp::Encrypt, || {
            A128CBC_HS256
                .encrypt(self.keys.encryption.bytes(), Some(&iv), plaintext, protected.as_bytes())
                .expect("A128CBC-HS256 encrypts with a 32-byte key and a 16-byte IV")
        });
        let tag = tag.expect("A128CBC-HS256 always produces a tag");
        format!(
            "{protected}..{}.{}.{}",
            URL_SAFE_NO_PAD.encode(iv),
            URL_SAFE_NO_PAD.encode(ciphertext),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }
}

/// The refresh token's `ccid`: `C` and the SHA-256 of the client id, as in the seed sample
/// (65 characters).
pub fn client_id_hash(client_id: &str) -> String {
    format!("C{}", hex::encode(Sha256::digest(client_id.as_bytes())))
}

/// The hash the refresh-token table stores instead of the token, so that a copy of the
/// database cannot be replayed (docs/domain.md "Refresh-token storage").
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random (version 4) UUID from `rng`.
pub fn uuid_v4(rng: &mut ChaCha20Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_enforce_the_documented_bounds() {
        assert!(Lifetimes::new(60, 86_400).is_ok());
        assert!(Lifetimes::new(1440 * 60, 90 * 86_400).is_ok());
        assert_eq!(Lifetimes::new(0, 86_400), Err(LifetimeError::Access(0)));
        assert_eq!(Lifetimes::new(1441 * 60, 86_400), Err(LifetimeError::Access(1441 * 60)));
        assert_eq!(Lifetimes::new(90, 86_400), Err(LifetimeError::Access(90)));
        assert_eq!(Lifetimes::new(60, 91 * 86_400), Err(LifetimeError::Refresh(91 * 86_400)));
        assert_eq!(Lifetimes::new(60, 3600), Err(LifetimeError::Refresh(3600)));
        assert_eq!(Lifetimes::defaults(), Lifetimes::new(3600, 60 * 86_400).unwrap());
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4(&mut Seeds::new(1).rng("x"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn ccid_matches_the_seed_shape() {
        let ccid = client_id_hash("jabber-1");
        assert_eq!(ccid.len(), 65);
        assert!(ccid.starts_with('C'));
    }
}

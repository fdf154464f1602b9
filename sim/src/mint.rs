//! Tokens a plugin author mints for their own vectors (`authzlab token keys` and `authzlab
//! token mint`): with keys of their own, claims of their choosing, in the format AuthZ issues,
//! so that a custom policy (`reject:denied` for some user) is tested without a scenario.
//!
//! A keys file (`authzlab-keys/1`) holds the secrets: the issuer (cluster id), the RSA
//! signing key (PKCS#8 DER, base64) and the 32-byte encryption key (base64). Its public side,
//! as a vectors file's `keys` takes it, is the JWK Set `token keys` prints.

use std::path::Path;

use authzlab_host::input::{read_bounded, InputKind};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::seeds::Seeds;
use crate::tokens::{
    client_id_hash, uuid_v4, AuthzKeys, EncryptionKey, Lifetimes, SigningKey, TokenService, SCOPE_DEFAULT,
};

/// The only keys-file format this reader understands.
pub const KEYS_FORMAT: &str = "authzlab-keys/1";

/// The consumer's clock when `--now` is not given: 2026-01-01T00:00:00Z. Any fixed instant
/// does; a fixed one makes a minted token the same on every machine.
pub const NOW_DEFAULT_S: u64 = 1_767_225_600;

/// Claims a claims file may hold: a bound on the token's size and on the work of writing it.
pub const CLAIMS_MAX: usize = 1_000;

/// A keys file as written on disk.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    format: String,
    /// The cluster id: every token's `iss`, and the prefix of both key ids.
    issuer: String,
    /// The RSA 2048 signing key, PKCS#8 DER in base64.
    signing_key: String,
    /// The encryption key (A128CBC-HS256, 32 bytes) in base64.
    encryption_key: String,
}

/// What `token mint` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MintKind {
    Access,
    Refresh,
}

/// Keys for a seed: the ones a run with that seed would start with (the issuer and both keys
/// from the seed's streams, the signing key from the key pool, so nothing is slow to make).
pub fn keys_for_seed(seed: u64) -> AuthzKeys {
    TokenService::new(&Seeds::new(seed), Lifetimes::defaults()).keys
}

/// The keys file's text for `keys` (secrets: the author's own test keys).
pub fn keys_file_text(keys: &AuthzKeys) -> String {
    let file = KeysFile {
        format: KEYS_FORMAT.to_string(),
        issuer: keys.cluster_id().to_string(),
        signing_key: STANDARD.encode(keys.signing.private_der()),
        encryption_key: STANDARD.encode(keys.encryption.bytes()),
    };
    serde_json::to_string_pretty(&file).expect("a keys file serializes") + "\n"
}

/// Reads a keys file (bounded); the error names the file and what is wrong.
pub fn load_keys(path: &Path) -> Result<AuthzKeys, String> {
    let bytes = read_bounded(path, InputKind::Keys).map_err(|e| e.to_string())?;
    let file = path.display();
    let parsed: KeysFile = serde_json::from_slice(&bytes).map_err(|e| format!("{file}: {e}"))?;
    if parsed.format != KEYS_FORMAT {
        return Err(format!(
            "{file}: format is {:?}; this reader understands {KEYS_FORMAT:?}",
            parsed.format
        ));
    }
    if parsed.issuer.is_empty() || parsed.issuer.contains(':') {
        return Err(format!(
            "{file}: issuer must be a non-empty cluster id without ':' (key ids are <issuer>:<checksum>)"
        ));
    }
    let decode = |field: &str, text: &str| {
        STANDARD.decode(text).map_err(|e| format!("{file}: {field} is not base64: {e}"))
    };
    let signing = SigningKey::from_pkcs8_der(&decode("signing_key", &parsed.signing_key)?)
        .map_err(|e| format!("{file}: signing_key is not an RSA PKCS#8 key: {e}"))?;
    let encryption = EncryptionKey::from_bytes(&decode("encryption_key", &parsed.encryption_key)?)
        .map_err(|e| format!("{file}: encryption_key: {e}"))?;
    Ok(AuthzKeys::from_parts(parsed.issuer, signing, encryption))
}

/// Reads a claims file: a JSON object (bounded; at most [`CLAIMS_MAX`] members).
pub fn load_claims(path: &Path) -> Result<Map<String, Value>, String> {
    let bytes = read_bounded(path, InputKind::Claims).map_err(|e| e.to_string())?;
    let file = path.display();
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{file}: {e}"))?;
    let Value::Object(claims) = value else {
        return Err(format!("{file}: the claims must be one JSON object, e.g. {{\"sub\": \"mallory\"}}"));
    };
    if claims.len() > CLAIMS_MAX {
        return Err(format!("{file}: {} claims; a claims file may hold at most {CLAIMS_MAX}", claims.len()));
    }
    Ok(claims)
}

/// A token of `kind` signed (and for an access token encrypted) with `keys`: the claims AuthZ
/// gives a token issued at `now_s` to `alice` on `jabber-1`, each replaced by the claims
/// file's value of the same name, then the file's other claims by name. AuthZ's claims keep
/// the issued token's order (the seed samples'). `seed` draws the token id and the IV: with
/// no claims given, the token is the one AuthZ would mint with these keys and that seed.
pub fn mint(kind: MintKind, keys: AuthzKeys, claims: &Map<String, Value>, now_s: u64, seed: u64) -> String {
    let seeds = Seeds::new(seed);
    let tid = uuid_v4(&mut seeds.rng("token-ids"));
    let lifetimes = Lifetimes::defaults();
    let issuer = Value::from(keys.cluster_id());
    let defaults: Vec<(&str, Value)> = match kind {
        MintKind::Access => vec![
            ("iss", issuer),
            ("sub", "alice".into()),
            ("client_id", "jabber-1".into()),
            ("scope", SCOPE_DEFAULT.into()),
            ("tid", tid.into()),
            ("typ", "user".into()),
            ("ctyp", "access".into()),
            ("iat", now_s.into()),
            ("exp", now_s.saturating_add(lifetimes.access_s).into()),
        ],
        MintKind::Refresh => vec![
            ("exp", now_s.saturating_add(lifetimes.refresh_s).into()),
            ("iss", issuer),
            ("typ", "user".into()),
            ("tid", tid.into()),
            ("ctyp", "refresh".into()),
            ("ccid", client_id_hash("jabber-1").into()),
        ],
    };
    let payload = merged(&defaults, claims);
    let mut service = TokenService::with_keys(keys, &seeds, lifetimes);
    match kind {
        MintKind::Access => {
            let inner = service.inner_jwt(payload.as_bytes());
            service.seal_inner(inner.as_bytes())
        }
        MintKind::Refresh => service.sign(payload.as_bytes()),
    }
}

/// `defaults` with `claims` laid over them, as a JSON object's text.
fn merged(defaults: &[(&str, Value)], claims: &Map<String, Value>) -> String {
    let mut members: Vec<String> =
        defaults.iter().map(|(name, value)| member(name, claims.get(*name).unwrap_or(value))).collect();
    members.extend(
        claims
            .iter()
            .filter(|(name, _)| !defaults.iter().any(|(default, _)| default == *name))
            .map(|(name, value)| member(name, value)),
    );
    format!("{{{}}}", members.join(","))
}

fn member(name: &str, value: &Value) -> String {
    format!("{}:{}", Value::from(name), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_S: u64 = 1_767_571_200;

    /// With no claims given, a minted token is byte for byte the one AuthZ mints with the
    /// same keys and seed: the defaults, their order and the token's layout are AuthZ's.
    #[test]
    fn with_no_claims_given_a_minted_token_is_the_one_authz_mints() {
        for (kind, authz) in [
            (MintKind::Access, TokenService::mint_access as fn(&mut TokenService, &str, &str, u64) -> _),
            (MintKind::Refresh, |service: &mut TokenService, _: &str, client: &str, now: u64| {
                service.mint_refresh(client, now)
            }),
        ] {
            let mut service =
                TokenService::with_keys(keys_for_seed(7), &Seeds::new(3), Lifetimes::defaults());
            let issued = authz(&mut service, "alice", "jabber-1", NOW_S).token;
            assert_eq!(mint(kind, keys_for_seed(7), &Map::new(), NOW_S, 3), issued, "{kind:?}");
        }
    }

    /// A claims file's value replaces AuthZ's of the same name in place; a new claim follows.
    #[test]
    fn given_claims_replace_authzs_in_place_and_new_ones_follow() {
        let defaults = [("iss", Value::from("c")), ("sub", Value::from("alice")), ("exp", Value::from(5))];
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"sub": "mallory", "department": ["sales"]}"#).unwrap();
        assert_eq!(
            merged(&defaults, &claims),
            r#"{"iss":"c","sub":"mallory","exp":5,"department":["sales"]}"#
        );
    }

    /// A keys file written and read back mints the same tokens; a damaged one is refused with
    /// the file's name and the field at fault.
    #[test]
    fn a_keys_file_reads_back_and_a_damaged_one_names_its_fault() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("keys.json");
        std::fs::write(&path, keys_file_text(&keys_for_seed(9))).unwrap();
        let loaded = load_keys(&path).unwrap();
        assert_eq!(loaded.signing_kid(), keys_for_seed(9).signing_kid());
        assert_eq!(loaded.encryption_kid(), keys_for_seed(9).encryption_kid());
        let text = std::fs::read_to_string(&path).unwrap();
        let mut damaged: Value = serde_json::from_str(&text).unwrap();
        damaged["encryption_key"] = Value::from(STANDARD.encode([0u8; 16]));
        std::fs::write(&path, damaged.to_string()).unwrap();
        let error = load_keys(&path).err().unwrap();
        assert!(error.contains("keys.json: encryption_key: 16 bytes, not 32"), "{error}");
        damaged["format"] = Value::from("authzlab-keys/2");
        std::fs::write(&path, damaged.to_string()).unwrap();
        assert!(load_keys(&path).err().unwrap().contains("format is \"authzlab-keys/2\""));
    }
}

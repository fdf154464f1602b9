//! Tokens minted by the simulated publisher are in the real system's format (docs/domain.md
//! "Token formats"), and a third-party JOSE library (josekit's own `JwsVerifier` and JWE
//! decrypter) accepts them: we decode every part and compare it with the seed samples' shape.

use authzlab::seeds::Seeds;
use authzlab::tokens::{client_id_hash, AccessClaims, Lifetimes, RefreshClaims, TokenService};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwe::Dir;
use josekit::jws::RS256;
use serde_json::Value;

const NOW_S: u64 = 1_767_571_200;

fn decode(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// Keys in JSON objects, in the order written.
fn key_order(part: &str) -> Vec<String> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    let mut keys = Vec::new();
    let object: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    let mut positions: Vec<(usize, String)> =
        object.keys().map(|key| (text.find(&format!("\"{key}\":")).unwrap(), key.clone())).collect();
    positions.sort();
    keys.extend(positions.into_iter().map(|(_, key)| key));
    keys
}

#[test]
fn access_token_matches_the_seed_format() {
    let mut service = TokenService::new(&Seeds::new(42), Lifetimes::defaults());
    let minted = service.mint_access("alice", "jabber-1", NOW_S);
    let parts: Vec<&str> = minted.token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");

    let header = decode(parts[0]);
    assert_eq!(key_order(parts[0]), ["alg", "typ", "kid"]);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    let kid = header["kid"].as_str().unwrap();
    let (cluster, checksum) = kid.split_once(':').expect("kid is <cluster-uuid>:<sha256-hex>");
    assert_eq!(cluster, service.keys.cluster_id());
    assert_eq!(cluster.len(), 36);
    assert_eq!(checksum.len(), 64);
    assert_eq!(checksum, service.keys.signing.checksum().to_string());

    let payload = decode(parts[1]);
    assert_eq!(payload.as_object().unwrap().len(), 1, "the payload holds only `private`");
    let jwe = payload["private"].as_str().unwrap();
    let jwe_parts: Vec<&str> = jwe.split('.').collect();
    assert_eq!(jwe_parts.len(), 5, "a compact JWE");
    assert_eq!(jwe_parts[1], "", "dir: the encrypted-key part is empty");
    assert_eq!(URL_SAFE_NO_PAD.decode(jwe_parts[2]).unwrap().len(), 16, "a 128-bit IV");
    assert_eq!(URL_SAFE_NO_PAD.decode(jwe_parts[4]).unwrap().len(), 16, "A128CBC-HS256's tag");
    let jwe_header = decode(jwe_parts[0]);
    assert_eq!(key_order(jwe_parts[0]), ["alg", "cty", "enc", "kid"]);
    assert_eq!(jwe_header["alg"], "dir");
    assert_eq!(jwe_header["cty"], "JWT");
    assert_eq!(jwe_header["enc"], "A128CBC-HS256");
    assert_eq!(jwe_header["kid"], format!("{cluster}:{}", service.keys.encryption.checksum()));
    assert_ne!(service.keys.signing.checksum(), service.keys.encryption.checksum());

    // josekit's own verifier and decrypter accept what we mint.
    let verifier = RS256.verifier_from_der(service.keys.signing.public_der()).unwrap();
    let (verified_payload, verified_header) =
        josekit::jws::deserialize_compact(&minted.token, &verifier).unwrap();
    assert_eq!(verified_header.key_id(), Some(kid));
    let verified: Value = serde_json::from_slice(&verified_payload).unwrap();
    let decrypter = Dir.decrypter_from_bytes(service.keys.encryption.bytes()).unwrap();
    let (plaintext, jwe_header) =
        josekit::jwe::deserialize_compact(verified["private"].as_str().unwrap(), &decrypter).unwrap();
    assert_eq!(jwe_header.content_encryption(), Some("A128CBC-HS256"));
    // The plaintext is itself a JWT (`cty: "JWT"`, as the documents' 624-byte sample shows):
    // RS256 with the same signing key, header without `kid` (our assumption).
    let nested = String::from_utf8(plaintext).unwrap();
    let nested_parts: Vec<&str> = nested.split('.').collect();
    assert_eq!(nested_parts.len(), 3, "the JWE's plaintext is a compact JWS, not bare claims");
    assert_eq!(key_order(nested_parts[0]), ["alg", "typ"]);
    let (inner_payload, inner_header) = josekit::jws::deserialize_compact(&nested, &verifier).unwrap();
    assert_eq!(inner_header.algorithm(), Some("RS256"));
    assert_eq!(inner_header.key_id(), None);
    let ciphertext_bytes = URL_SAFE_NO_PAD.decode(jwe_parts[3]).unwrap().len();
    assert_eq!(ciphertext_bytes, 704, "the sample's is 624: same order, our claims are ours");
    let plaintext = inner_payload;
    let claims: AccessClaims = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(claims.iss, service.keys.cluster_id());
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.client_id, "jabber-1");
    assert_eq!(claims.typ, "user");
    assert_eq!(claims.ctyp, "access");
    assert_eq!(claims.tid, minted.tid);
    assert_eq!(claims.iat, NOW_S);
    assert_eq!(claims.exp, NOW_S + 3600, "the default 60-minute lifetime");
    let order: Vec<String> = {
        let text = String::from_utf8(plaintext).unwrap();
        let mut keys: Vec<(usize, &str)> =
            ["iss", "sub", "client_id", "scope", "tid", "typ", "ctyp", "iat", "exp"]
                .iter()
                .map(|key| (text.find(&format!("\"{key}\":")).unwrap(), *key))
                .collect();
        keys.sort();
        keys.into_iter().map(|(_, key)| key.to_string()).collect()
    };
    assert_eq!(order, ["iss", "sub", "client_id", "scope", "tid", "typ", "ctyp", "iat", "exp"]);
}

#[test]
fn refresh_token_matches_the_seed_format() {
    let mut service = TokenService::new(&Seeds::new(42), Lifetimes::defaults());
    let minted = service.mint_refresh("jabber-1", NOW_S);
    let parts: Vec<&str> = minted.token.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(key_order(parts[0]), ["alg", "typ", "kid"]);
    // Exactly the seed sample's members, in its order.
    assert_eq!(key_order(parts[1]), ["exp", "iss", "typ", "tid", "ctyp", "ccid"]);
    let verifier = RS256.verifier_from_der(service.keys.signing.public_der()).unwrap();
    let (payload, _) = josekit::jws::deserialize_compact(&minted.token, &verifier).unwrap();
    let claims: RefreshClaims = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims.exp, NOW_S + 60 * 86_400, "the default 60-day lifetime");
    assert_eq!(claims.ctyp, "refresh");
    assert_eq!(claims.typ, "user");
    assert_eq!(claims.ccid, client_id_hash("jabber-1"));
    assert_eq!(claims.tid, minted.tid);
}

#[test]
fn minting_is_deterministic_per_seed() {
    let mint = |seed| {
        let mut service = TokenService::new(&Seeds::new(seed), Lifetimes::defaults());
        (service.mint_access("alice", "jabber-1", NOW_S).token, service.mint_refresh("jabber-1", NOW_S).token)
    };
    assert_eq!(mint(5), mint(5));
    assert_ne!(mint(5).0, mint(6).0);
}

#[test]
fn regenerating_a_key_changes_only_that_key() {
    let mut service = TokenService::new(&Seeds::new(9), Lifetimes::defaults());
    let (signing, encryption) = (service.keys.signing.checksum(), service.keys.encryption.checksum());
    service.regenerate(authzlab::tokens::KeyKind::Signing);
    assert_ne!(service.keys.signing.checksum(), signing);
    assert_eq!(service.keys.encryption.checksum(), encryption);
    service.regenerate(authzlab::tokens::KeyKind::Encryption);
    assert_ne!(service.keys.encryption.checksum(), encryption);
}

#[test]
fn a_consumer_sees_the_same_checksums_from_der_and_from_a_jwk_set() {
    let service = TokenService::new(&Seeds::new(11), Lifetimes::defaults());
    let keys = &service.keys;
    let from_jwk = authzlab_host::Keyring::from_jwk_set(keys.cluster_id(), &keys.jwk_set()).unwrap();
    let from_der = keys.keyring();
    for keyring in [&from_jwk, &from_der] {
        let signing: Vec<_> = keyring.signing_keys().collect();
        assert_eq!(signing, [(keys.signing_kid().as_str(), keys.signing.checksum())]);
        let encryption: Vec<_> = keyring.encryption_keys().collect();
        assert_eq!(encryption, [(keys.encryption_kid().as_str(), keys.encryption.checksum())]);
    }
}

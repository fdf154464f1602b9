//! The unity-connection component and the native reference validator reach the same verdict
//! on every conformance vector, and that verdict is the one the vector expects.
//!
//! How: `tests/vectors/unity-connection.json` is built here from the token service with a
//! fixed seed (so anyone can see how each hostile token was made) and compared with the
//! committed file; `AUTHZLAB_UPDATE_VECTORS=1 cargo test -p authzlab-tests --test conformance`
//! rewrites it. Each case is then run through both validators.

mod common;

use std::path::PathBuf;

use authzlab::seeds::Seeds;
use authzlab::tokens::{AccessClaims, KeyKind, Lifetimes, TokenService};
use authzlab_host::vectors::{Case, Kind, Vectors, VectorsFile, FORMAT};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jws::{JwsSigner, HS256};
use serde_json::{json, Value};

/// When the tokens are checked: a fixed simulated time.
const NOW_S: u64 = 1_767_574_800;
const VECTOR_SEED: u64 = 2026;

fn vectors_path() -> PathBuf {
    common::repo().join("tests/vectors/unity-connection.json")
}

/// Every case the issue names, plus boundaries on both sides of the clock leeway.
fn build_vectors() -> VectorsFile {
    let lifetimes = Lifetimes::defaults();
    let mut service = TokenService::new(&Seeds::new(VECTOR_SEED), lifetimes);
    let issued_at = NOW_S - 60;
    let valid = service.mint_access("alice", "jabber-1", issued_at);
    let refresh = service.mint_refresh("jabber-1", issued_at);
    let mut cases = Vec::new();
    let mut case = |name: &str, kind: Kind, token: String, now: u64, expect: &str, claims: Option<Value>| {
        cases.push(Case {
            name: name.to_string(),
            kind,
            token,
            now,
            consumer: "unity-connection".to_string(),
            expect: expect.to_string(),
            claims: claims.map(|claims| claims.as_object().expect("claims are an object").clone()),
        });
    };

    case(
        "valid-access-token",
        Kind::Access,
        valid.token.clone(),
        NOW_S,
        "accept",
        Some(json!({ "sub": "alice", "client_id": "jabber-1", "tid": valid.tid, "exp": valid.exp })),
    );
    case(
        "valid-refresh-token",
        Kind::Refresh,
        refresh.token.clone(),
        NOW_S,
        "accept",
        Some(json!({ "tid": refresh.tid })),
    );
    case("expired-within-leeway", Kind::Access, valid.token.clone(), valid.exp + 29, "accept", None);
    case("expired", Kind::Access, valid.token.clone(), valid.exp + 30, "reject:expired", None);
    case("expired-long-ago", Kind::Access, valid.token.clone(), valid.exp + 86_400, "reject:expired", None);

    let future = claims_for(&service, "alice", NOW_S + 3600, lifetimes.access_s, "access");
    case("not-yet-valid", Kind::Access, service.seal_access(&future), NOW_S, "reject:not-yet-valid", None);
    let slightly_future = claims_for(&service, "alice", NOW_S + 30, lifetimes.access_s, "access");
    case("issued-within-leeway", Kind::Access, service.seal_access(&slightly_future), NOW_S, "accept", None);

    case(
        "tampered-signature",
        Kind::Access,
        tamper_signature(&valid.token),
        NOW_S,
        "reject:bad-signature",
        None,
    );
    case(
        "tampered-payload",
        Kind::Access,
        swap_payload(&valid.token, &refresh.token),
        NOW_S,
        "reject:bad-signature",
        None,
    );

    let mut other_signer = TokenService::new(&Seeds::new(VECTOR_SEED), lifetimes);
    other_signer.regenerate(KeyKind::Signing);
    let foreign_signature = other_signer.mint_access("alice", "jabber-1", issued_at);
    case(
        "unknown-signing-kid",
        Kind::Access,
        foreign_signature.token,
        NOW_S,
        "reject:unknown-signing-key",
        None,
    );

    let mut other_encrypter = TokenService::new(&Seeds::new(VECTOR_SEED), lifetimes);
    other_encrypter.regenerate(KeyKind::Encryption);
    let foreign_encryption = other_encrypter.mint_access("alice", "jabber-1", issued_at);
    case(
        "unknown-encryption-kid",
        Kind::Access,
        foreign_encryption.token,
        NOW_S,
        "reject:unknown-encryption-key",
        None,
    );

    case(
        "tampered-jwe-tag",
        Kind::Access,
        tamper_jwe_tag(&service, &valid.token),
        NOW_S,
        "reject:decryption-failed",
        None,
    );
    case("alg-none", Kind::Access, alg_none(&valid.token), NOW_S, "reject:unsupported-algorithm", None);
    case(
        "hs256-keyed-with-rsa-public-key",
        Kind::Access,
        hs256_with_public_key(&service, &valid.token),
        NOW_S,
        "reject:unsupported-algorithm",
        None,
    );
    let id_token = claims_for(&service, "alice", issued_at, lifetimes.access_s, "id");
    case("wrong-ctyp", Kind::Access, service.seal_access(&id_token), NOW_S, "reject:wrong-token-type", None);
    let mut foreign = claims_for(&service, "alice", issued_at, lifetimes.access_s, "access");
    foreign.iss = "00000000-0000-4000-8000-000000000000".to_string();
    case("wrong-issuer", Kind::Access, service.seal_access(&foreign), NOW_S, "reject:wrong-issuer", None);
    case(
        "refresh-token-as-access-token",
        Kind::Access,
        refresh.token.clone(),
        NOW_S,
        "reject:wrong-token-type",
        None,
    );
    case(
        "access-token-as-refresh-token",
        Kind::Refresh,
        valid.token.clone(),
        NOW_S,
        "reject:wrong-token-type",
        None,
    );
    case(
        "truncated",
        Kind::Access,
        valid.token[..valid.token.len() / 2].to_string(),
        NOW_S,
        "reject:malformed",
        None,
    );
    let cut_signature = valid.token[..valid.token.len() - 10].to_string();
    case("truncated-signature", Kind::Access, cut_signature, NOW_S, "reject:bad-signature", None);
    case("non-base64", Kind::Access, "eyJ!!!.@@@.###".to_string(), NOW_S, "reject:malformed", None);
    case("empty", Kind::Access, String::new(), NOW_S, "reject:malformed", None);
    case("padded-base64", Kind::Access, format!("{}=", valid.token), NOW_S, "reject:malformed", None);

    VectorsFile {
        format: FORMAT.to_string(),
        issuer: service.keys.cluster_id().to_string(),
        keys: service.keys.jwk_set(),
        cases,
    }
}

fn claims_for(service: &TokenService, user: &str, iat: u64, lifetime_s: u64, ctyp: &str) -> AccessClaims {
    AccessClaims {
        iss: service.keys.cluster_id().to_string(),
        sub: user.to_string(),
        client_id: "jabber-1".to_string(),
        scope: "UnifiedCommunications:readwrite".to_string(),
        tid: format!("00000000-0000-4000-8000-{iat:012}"),
        typ: "user".to_string(),
        ctyp: ctyp.to_string(),
        iat,
        exp: iat + lifetime_s,
    }
}

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_string).collect()
}

/// Flips one bit of the signature, keeping it canonical base64url.
fn tamper_signature(token: &str) -> String {
    let mut parts = parts(token);
    let mut signature = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
    signature[100] ^= 0x01;
    parts[2] = URL_SAFE_NO_PAD.encode(signature);
    parts.join(".")
}

/// Another token's payload under this token's signature.
fn swap_payload(token: &str, other: &str) -> String {
    let mut parts = parts(token);
    parts[1] = self::parts(other)[1].clone();
    parts.join(".")
}

/// Flips one bit of the JWE tag and signs the result properly, so only the tag is wrong.
fn tamper_jwe_tag(service: &TokenService, token: &str) -> String {
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts(token)[1]).unwrap()).unwrap();
    let mut jwe = parts(payload["private"].as_str().unwrap());
    let mut tag = URL_SAFE_NO_PAD.decode(&jwe[4]).unwrap();
    tag[0] ^= 0x80;
    jwe[4] = URL_SAFE_NO_PAD.encode(tag);
    let payload = json!({ "private": jwe.join(".") });
    service.sign(&serde_json::to_vec(&payload).unwrap())
}

/// The same token with `alg: none` and no signature.
fn alg_none(token: &str) -> String {
    let parts = parts(token);
    let mut header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[0]).unwrap()).unwrap();
    header["alg"] = json!("none");
    format!("{}.{}.", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()), parts[1])
}

/// The classic key-confusion attack: HS256 keyed with the RSA public key (as PEM and DER
/// both circulate, DER here).
fn hs256_with_public_key(service: &TokenService, token: &str) -> String {
    let parts = parts(token);
    let mut header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[0]).unwrap()).unwrap();
    header["alg"] = json!("HS256");
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()), parts[1]);
    let signer = HS256.signer_from_bytes(service.keys.signing.public_der()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signer.sign(input.as_bytes()).unwrap()))
}

#[test]
fn committed_vectors_are_the_generated_ones() {
    let generated = serde_json::to_string_pretty(&build_vectors()).unwrap() + "\n";
    let path = vectors_path();
    if std::env::var_os("AUTHZLAB_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).expect("tests/vectors/unity-connection.json exists");
    assert!(committed == generated, "{} is stale: rerun with AUTHZLAB_UPDATE_VECTORS=1", path.display());
}

/// The consumers' plugins built with the same SDK (IM and Presence, CallManager's SIP check,
/// the Expressway edge) agree with the native reference on every vector too (every valid
/// vector carries the Unified Communications scope their policies ask for).
#[test]
fn every_consumer_component_agrees_with_every_vector() {
    let vectors = Vectors::load(&vectors_path()).expect("the committed vectors load");
    for (artifact, consumer) in [
        (authzlab_plugins::IMP, "imp"),
        (authzlab_plugins::CALLMANAGER_SIP, "callmanager-sip"),
        (authzlab_plugins::EXPRESSWAY, "expressway"),
    ] {
        let mut plugin = common::plugins().load(artifact.name, artifact.bytes).unwrap();
        assert_eq!(plugin.info().consumer, consumer);
        let outcomes = vectors.run(&mut plugin);
        let failures: Vec<String> = outcomes.iter().filter(|o| !o.passed()).map(|o| o.to_string()).collect();
        assert!(failures.is_empty(), "{consumer} mismatches:\n{}", failures.join("\n"));
    }
}

#[test]
fn component_and_native_validator_agree_with_every_vector() {
    let vectors = Vectors::load(&vectors_path()).expect("the committed vectors load");
    let artifact = authzlab_plugins::UNITY_CONNECTION;
    let mut plugin = common::plugins().load(artifact.name, artifact.bytes).unwrap();
    let outcomes = vectors.run(&mut plugin);
    assert!(outcomes.len() >= 20, "all the issue's cases are present");
    let failures: Vec<String> = outcomes.iter().filter(|o| !o.passed()).map(|o| o.to_string()).collect();
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
    for outcome in &outcomes {
        assert_eq!(outcome.component, outcome.native, "{}: the two validators disagree", outcome.case);
    }
    // The negative space: a vector that expects the wrong verdict is caught.
    let mut wrong = vectors;
    wrong.cases.truncate(1);
    wrong.cases[0].expect = "reject:expired".to_string();
    assert!(!wrong.run(&mut plugin)[0].passed());
}

#[test]
fn every_named_case_is_covered() {
    let names: Vec<String> = build_vectors().cases.into_iter().map(|case| case.name).collect();
    for required in [
        "valid-access-token",
        "expired",
        "not-yet-valid",
        "tampered-signature",
        "unknown-signing-kid",
        "unknown-encryption-kid",
        "tampered-jwe-tag",
        "alg-none",
        "hs256-keyed-with-rsa-public-key",
        "wrong-ctyp",
        "truncated",
        "non-base64",
        "refresh-token-as-access-token",
    ] {
        assert!(names.iter().any(|name| name == required), "missing case {required}");
    }
}

#[test]
fn a_bad_vectors_file_names_the_file_and_the_problem() {
    let error = Vectors::parse("{ \"format\": \"authzlab-vectors/1\", ", "broken.json").err().unwrap();
    assert!(error.to_string().starts_with("broken.json:1:"), "{error}");
    let wrong_format = r#"{"format":"other/2","issuer":"x","keys":{"keys":[]},"cases":[]}"#;
    let error = Vectors::parse(wrong_format, "v.json").err().unwrap().to_string();
    assert!(error.contains("other/2") && error.contains("authzlab-vectors/1"), "{error}");
    let bad_expect = r#"{"format":"authzlab-vectors/1","issuer":"x","keys":{"keys":[]},
        "cases":[{"name":"a","kind":"access","token":"t","now":1,"expect":"reject:nope"}]}"#;
    let error = Vectors::parse(bad_expect, "v.json").err().unwrap().to_string();
    assert!(error.contains("reject:nope") && error.contains("case \"a\""), "{error}");
}

/// SplitMix64: a seeded stream for mutations, so a failing case names its seed and replays.
struct Mutations(u64);

impl Mutations {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One edit of the kinds a network, a bug or an attacker makes.
    fn mutate(&mut self, token: &str) -> String {
        let mut bytes = token.as_bytes().to_vec();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
        let at = self.below(bytes.len());
        match self.below(5) {
            0 => bytes[at] = alphabet[self.below(alphabet.len())],
            1 => {
                bytes.remove(at);
            }
            2 => bytes.insert(at, alphabet[self.below(alphabet.len())]),
            3 => bytes.truncate(at),
            _ => {
                let end = (at + 1 + self.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
        String::from_utf8(bytes).expect("edits use ASCII only")
    }
}

/// A verdict with every payload but `malformed`'s free text, which two validators may word
/// differently (the contract compares the rejection, kid, alg, exp and claims, not prose).
fn comparable(verdict: &authzlab_host::Verdict) -> String {
    match verdict {
        authzlab_host::Verdict::Rejected(authzlab_host::Rejection::Malformed(_)) => {
            "reject:malformed".to_string()
        }
        other => format!("{other:?}"),
    }
}

#[test]
fn mutated_tokens_get_the_same_verdict_from_both_validators() {
    let vectors = Vectors::load(&vectors_path()).unwrap();
    let artifact = authzlab_plugins::UNITY_CONNECTION;
    let mut plugin = common::plugins().load(artifact.name, artifact.bytes).unwrap();
    // The service that minted the vectors, rebuilt from its seed: it re-signs mutated
    // payloads so that edits inside the JWE get past the signature check.
    let signer = TokenService::new(&Seeds::new(VECTOR_SEED), Lifetimes::defaults());
    let seeds = ["valid-access-token", "valid-refresh-token", "tampered-jwe-tag"];
    let mut mutations = Mutations(0x5eed);
    let mut verdicts = std::collections::BTreeMap::new();
    for (round, name) in (0..900).map(|round| (round, seeds[round % seeds.len()])) {
        let case = vectors.cases.iter().find(|case| case.name == name).unwrap();
        let mut request = case.request();
        let inner = round % 2 == 1 && name != "valid-refresh-token";
        let payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts(&request.token)[1]).unwrap()).unwrap();
        let mut target =
            if inner { payload["private"].as_str().unwrap().to_string() } else { request.token.clone() };
        // One to three edits; several edits reach past the first failing check.
        for _ in 0..=mutations.below(3) {
            target = mutations.mutate(&target);
        }
        request.token = if inner {
            signer.sign(&serde_json::to_vec(&json!({ "private": target })).unwrap())
        } else {
            target
        };
        let component = plugin.validate(vectors.keyring.clone(), &request);
        let native =
            authzlab_host::Verdict::from(authzlab_host::reference::validate(&vectors.keyring, &request));
        assert_eq!(
            comparable(&component),
            comparable(&native),
            "round {round} from {name}: token {:?}",
            request.token
        );
        *verdicts.entry(native.name()).or_insert(0) += 1;
    }
    // The mutations reach several checks, not just the parser.
    for reached in ["reject:bad-signature", "reject:malformed", "reject:decryption-failed"] {
        assert!(verdicts.contains_key(reached), "{reached} not reached: {verdicts:?}");
    }
    assert!(verdicts.len() >= 5, "verdicts reached: {verdicts:?}");
}

//! The built-in conformance suite (`authzlab plugin check` without `--vectors`): hostile and
//! boundary tokens made from a fixed seed with the real token service, each with the verdict
//! the contract requires. `tests/vectors/unity-connection.json` is this suite written out
//! (a test holds the two equal), for anyone who wants the cases without building authzlab.
//!
//! Every case is a real token, or a real token with exactly one thing made wrong; the
//! function that makes each one wrong says how.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jws::{JwsSigner, HS256};
use serde_json::{json, Value};

use authzlab_host::vectors::{Case, Kind, VectorsFile, FORMAT};

use crate::seeds::Seeds;
use crate::tokens::{AccessClaims, KeyKind, Lifetimes, TokenService};

/// When the tokens are checked: a fixed simulated time.
pub const NOW_S: u64 = 1_767_574_800;
pub const VECTOR_SEED: u64 = 2026;

/// Cases larger than this are left out of the written-out file (the 1 MiB token is a
/// mebibyte of `A`s: worth running, not worth committing).
pub const WRITTEN_CASE_BYTES_MAX: usize = 64 * 1024;

/// The suite as `tests/vectors/unity-connection.json` holds it: every case but the huge.
pub fn written_vectors() -> VectorsFile {
    let mut vectors = build_vectors();
    vectors.cases.retain(|case| case.token.len() <= WRITTEN_CASE_BYTES_MAX);
    vectors
}

/// The built-in suite: every case the issues name, with boundaries on both sides of the clock
/// leeway, each token made here from the seed so that anyone can see how it was forged.
pub fn build_vectors() -> VectorsFile {
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
            native: None,
            claims: claims.map(|claims| claims.as_object().expect("claims are an object").clone()),
        });
    };

    clock_cases(&mut service, &valid, &refresh, &mut case);
    refresh_cases(&service, &refresh, issued_at, &mut case);
    tampering_cases(&service, &valid, &refresh, issued_at, &mut case);
    shape_cases(&mut service, &valid, &refresh, issued_at, &mut case);
    hostile_headers(&mut service, &valid, issued_at, &mut case);

    VectorsFile {
        format: FORMAT.to_string(),
        issuer: service.keys.cluster_id().to_string(),
        keys: service.keys.jwk_set(),
        cases,
    }
}

/// Valid tokens, and the clock's edges: expiry and issue time on both sides of the leeway.
fn clock_cases(
    service: &mut TokenService,
    valid: &crate::tokens::Minted,
    refresh: &crate::tokens::Minted,
    case: &mut impl FnMut(&str, Kind, String, u64, &str, Option<Value>),
) {
    let lifetimes = Lifetimes::defaults();
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

    let future = claims_for(service, "alice", NOW_S + 3600, lifetimes.access_s, "access");
    case("not-yet-valid", Kind::Access, service.seal_access(&future), NOW_S, "reject:not-yet-valid", None);
    let slightly_future = claims_for(service, "alice", NOW_S + 30, lifetimes.access_s, "access");
    case("issued-within-leeway", Kind::Access, service.seal_access(&slightly_future), NOW_S, "accept", None);
    let just_beyond = claims_for(service, "alice", NOW_S + 31, lifetimes.access_s, "access");
    case(
        "issued-1s-beyond-leeway",
        Kind::Access,
        service.seal_access(&just_beyond),
        NOW_S,
        "reject:not-yet-valid",
        None,
    );
}

/// A refresh token held to the same checks as an access token: its expiry on both sides of
/// the leeway (it carries no `iat`), a flipped signature, another token's payload under its
/// signature, a key the consumer does not hold, another issuer, an access token's `ctyp`,
/// `alg: none`, and a payload missing the `tid` a consumer records. A policy that waves
/// refresh tokens through any one of these checks fails a case here.
fn refresh_cases(
    service: &TokenService,
    refresh: &crate::tokens::Minted,
    issued_at: u64,
    case: &mut impl FnMut(&str, Kind, String, u64, &str, Option<Value>),
) {
    let token = || refresh.token.clone();
    case("refresh-expired-within-leeway", Kind::Refresh, token(), refresh.exp + 29, "accept", None);
    case("refresh-expired", Kind::Refresh, token(), refresh.exp + 30, "reject:expired", None);
    case(
        "refresh-expired-long-ago",
        Kind::Refresh,
        token(),
        refresh.exp + 86_400 * 365,
        "reject:expired",
        None,
    );
    case(
        "refresh-tampered-signature",
        Kind::Refresh,
        tamper_signature(&refresh.token),
        NOW_S,
        "reject:bad-signature",
        None,
    );
    let claims = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut payload: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD.decode(&parts(&refresh.token)[1]).expect("our payload is base64url"),
        )
        .expect("our payload is JSON");
        edit(payload.as_object_mut().expect("an object"));
        serde_json::to_vec(&payload).expect("serializes")
    };
    let later = claims(&|payload| payload["exp"] = json!(refresh.exp + 86_400 * 30));
    let stretched = format!(
        "{}.{}.{}",
        parts(&refresh.token)[0],
        URL_SAFE_NO_PAD.encode(later),
        parts(&refresh.token)[2]
    );
    case("refresh-tampered-payload", Kind::Refresh, stretched, NOW_S, "reject:bad-signature", None);
    let mut other_signer = TokenService::new(&Seeds::new(VECTOR_SEED), Lifetimes::defaults());
    other_signer.regenerate(KeyKind::Signing);
    let foreign = other_signer.mint_refresh("jabber-1", issued_at).token;
    case("refresh-unknown-signing-kid", Kind::Refresh, foreign, NOW_S, "reject:unknown-signing-key", None);
    let other_issuer = service.sign(&claims(&|payload| {
        payload["iss"] = json!("00000000-0000-4000-8000-000000000000");
    }));
    case("refresh-wrong-issuer", Kind::Refresh, other_issuer, NOW_S, "reject:wrong-issuer", None);
    let access_ctyp = service.sign(&claims(&|payload| payload["ctyp"] = json!("access")));
    case("refresh-with-an-access-ctyp", Kind::Refresh, access_ctyp, NOW_S, "reject:wrong-token-type", None);
    case(
        "refresh-alg-none",
        Kind::Refresh,
        alg_none(&refresh.token),
        NOW_S,
        "reject:unsupported-algorithm",
        None,
    );
    let without_tid = service.sign(&claims(&|payload| {
        payload.remove("tid");
    }));
    case("refresh-without-tid", Kind::Refresh, without_tid, NOW_S, "reject:malformed", None);
}

/// Tampered signatures and payloads, keys the consumer does not hold, a broken JWE tag.
fn tampering_cases(
    service: &TokenService,
    valid: &crate::tokens::Minted,
    refresh: &crate::tokens::Minted,
    issued_at: u64,
    case: &mut impl FnMut(&str, Kind, String, u64, &str, Option<Value>),
) {
    let lifetimes = Lifetimes::defaults();
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
        tamper_jwe_tag(service, &valid.token),
        NOW_S,
        "reject:decryption-failed",
        None,
    );
}

/// The wrong algorithm, token type, issuer or shape.
fn shape_cases(
    service: &mut TokenService,
    valid: &crate::tokens::Minted,
    refresh: &crate::tokens::Minted,
    issued_at: u64,
    case: &mut impl FnMut(&str, Kind, String, u64, &str, Option<Value>),
) {
    let lifetimes = Lifetimes::defaults();
    case("alg-none", Kind::Access, alg_none(&valid.token), NOW_S, "reject:unsupported-algorithm", None);
    case(
        "hs256-keyed-with-rsa-public-key",
        Kind::Access,
        hs256_with_public_key(service, &valid.token),
        NOW_S,
        "reject:unsupported-algorithm",
        None,
    );
    let id_token = claims_for(service, "alice", issued_at, lifetimes.access_s, "id");
    case("wrong-ctyp", Kind::Access, service.seal_access(&id_token), NOW_S, "reject:wrong-token-type", None);
    let mut foreign = claims_for(service, "alice", issued_at, lifetimes.access_s, "access");
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
}

/// Tokens whose headers (or JSON) carry what an attacker would put there: odd `kid`s,
/// `alg: none` in other spellings, `zip`, `crit`, key URLs, the wrong kind of JOSE object,
/// duplicate members, deep nesting, a token too large to read.
fn hostile_headers(
    service: &mut TokenService,
    valid: &crate::tokens::Minted,
    issued_at: u64,
    case: &mut impl FnMut(&str, Kind, String, u64, &str, Option<Value>),
) {
    let payload = URL_SAFE_NO_PAD.decode(&parts(&valid.token)[1]).expect("our payload is base64url");
    let kid = service.keys.signing_kid();
    let signed = |service: &TokenService, header: Value| {
        service.sign_with_header(&serde_json::to_vec(&header).expect("a header serializes"), &payload)
    };
    for (name, odd_kid) in [
        ("kid-with-path", "../../../../etc/passwd"),
        ("kid-with-sql", "x' OR '1'='1"),
        ("kid-with-control-characters", "kid\u{0}\n\r\u{1b}[2J"),
    ] {
        let token = signed(service, json!({ "alg": "RS256", "typ": "JWT", "kid": odd_kid }));
        case(name, Kind::Access, token, NOW_S, "reject:unknown-signing-key", None);
    }
    for (name, alg) in [("alg-None", "None"), ("alg-nOnE", "nOnE")] {
        let token = signed(service, json!({ "alg": alg, "typ": "JWT", "kid": kid }));
        case(name, Kind::Access, token, NOW_S, "reject:unsupported-algorithm", None);
    }
    let zipped = signed(service, json!({ "alg": "RS256", "typ": "JWT", "kid": kid, "zip": "DEF" }));
    case("zip-in-jws-header", Kind::Access, zipped, NOW_S, "reject:unsupported-algorithm", None);
    let critical =
        signed(service, json!({ "alg": "RS256", "typ": "JWT", "kid": kid, "crit": ["exp"], "exp": 1 }));
    case("crit-in-jws-header", Kind::Access, critical, NOW_S, "reject:malformed", None);
    // Key URLs and embedded keys are never followed: the token, signed by someone else's key
    // that its header points at, fails on the consumer's own key.
    let attacker = TokenService::new(&Seeds::new(VECTOR_SEED + 1), Lifetimes::defaults());
    let attacker_jwk = attacker.keys.jwk_set()["keys"][0].clone();
    for (name, member, value) in [
        ("jwk-header-not-followed", "jwk", attacker_jwk),
        ("jku-header-not-followed", "jku", json!("https://attacker.example/jwks.json")),
        ("x5u-header-not-followed", "x5u", json!("https://attacker.example/cert.pem")),
    ] {
        let mut header = json!({ "alg": "RS256", "typ": "JWT", "kid": kid });
        header[member] = value;
        let token = attacker.sign_with_header(&serde_json::to_vec(&header).expect("serializes"), &payload);
        case(name, Kind::Access, token, NOW_S, "reject:bad-signature", None);
    }

    // The JWE inside: every header and part made wrong one at a time, each properly signed.
    let claims = serde_json::to_vec(&claims_for(
        service,
        "alice",
        issued_at,
        Lifetimes::defaults().access_s,
        "access",
    ))
    .expect("claims serialize");
    let nested_jwt = service.inner_jwt(&claims).into_bytes();
    let enc_kid = service.keys.encryption_kid();
    let sealed = |service: &mut TokenService, header: Value, plaintext: &[u8]| {
        let jwe = service.encrypt_with_header(&serde_json::to_vec(&header).expect("serializes"), plaintext);
        service.sign(&serde_json::to_vec(&json!({ "private": jwe })).expect("serializes"))
    };
    let jwe_header = |extra: Value| {
        let mut header = json!({ "alg": "dir", "cty": "JWT", "enc": "A128CBC-HS256", "kid": enc_kid });
        for (name, value) in extra.as_object().expect("an object") {
            header[name] = value.clone();
        }
        header
    };
    let rsa_oaep = sealed(service, jwe_header(json!({ "alg": "RSA-OAEP" })), &nested_jwt);
    case(
        "rs256-over-a-jwe-that-is-not-dir",
        Kind::Access,
        rsa_oaep,
        NOW_S,
        "reject:unsupported-algorithm",
        None,
    );
    let zipped = sealed(service, jwe_header(json!({ "zip": "DEF" })), &nested_jwt);
    case("zip-in-jwe-header", Kind::Access, zipped, NOW_S, "reject:unsupported-algorithm", None);
    let critical = sealed(service, jwe_header(json!({ "crit": ["x"] })), &nested_jwt);
    case("crit-in-jwe-header", Kind::Access, critical, NOW_S, "reject:malformed", None);
    let wrong_cty = sealed(service, jwe_header(json!({ "cty": "json" })), &nested_jwt);
    case("wrong-cty", Kind::Access, wrong_cty, NOW_S, "reject:malformed", None);
    nested_jwt_cases(service, &claims, case);
    let mut duplicate = claims.clone();
    duplicate.pop();
    duplicate.extend_from_slice(br#","sub":"mallory"}"#);
    let duplicated = service.seal_inner(service.inner_jwt(&duplicate).as_bytes());
    case("duplicate-claim-member", Kind::Access, duplicated, NOW_S, "reject:malformed", None);
    let nested = format!("{{\"deep\":{}1{}}}", "[".repeat(1000), "]".repeat(1000));
    let deep = service.seal_inner(service.inner_jwt(nested.as_bytes()).as_bytes());
    case("deeply-nested-claims", Kind::Access, deep, NOW_S, "reject:malformed", None);
    for (name, index) in [("tampered-jwe-iv", 2), ("tampered-jwe-ciphertext", 3)] {
        case(
            name,
            Kind::Access,
            tamper_jwe_part(service, &valid.token, index),
            NOW_S,
            "reject:decryption-failed",
            None,
        );
    }

    // The wrong kind of JOSE object where another belongs.
    let private = private_jwe(&valid.token);
    case("jwe-where-a-jws-belongs", Kind::Access, private, NOW_S, "reject:malformed", None);
    let jws_inside =
        service.sign(&serde_json::to_vec(&json!({ "private": valid.token })).expect("serializes"));
    case("jws-where-a-jwe-belongs", Kind::Access, jws_inside, NOW_S, "reject:malformed", None);
    let duplicate_header = {
        let header = format!(r#"{{"alg":"none","alg":"RS256","typ":"JWT","kid":"{kid}"}}"#);
        service.sign_with_header(header.as_bytes(), &payload)
    };
    case("duplicate-header-member", Kind::Access, duplicate_header, NOW_S, "reject:malformed", None);
    let huge = format!("{}.{}.{}", parts(&valid.token)[0], "A".repeat(1 << 20), parts(&valid.token)[2]);
    case("one-mebibyte-token", Kind::Access, huge, NOW_S, "reject:malformed", None);
}

/// The JWT inside the JWE (`cty: "JWT"`) made wrong: absent (the bare claims, as authzlab
/// minted before it nested them), unsigned, signed by another key, its signature flipped.
fn nested_jwt_cases(
    service: &mut TokenService,
    claims: &[u8],
    case: &mut impl FnMut(&str, Kind, String, u64, &str, Option<Value>),
) {
    let bare = service.seal_inner(claims);
    case("bare-claims-in-the-jwe", Kind::Access, bare, NOW_S, "reject:malformed", None);
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let unsigned = service.seal_inner(unsigned.as_bytes());
    case("nested-jwt-alg-none", Kind::Access, unsigned, NOW_S, "reject:unsupported-algorithm", None);
    let mut other_signer = TokenService::new(&Seeds::new(VECTOR_SEED), Lifetimes::defaults());
    other_signer.regenerate(KeyKind::Signing);
    let foreign = service.seal_inner(other_signer.inner_jwt(claims).as_bytes());
    case("nested-jwt-signed-by-another-key", Kind::Access, foreign, NOW_S, "reject:bad-signature", None);
    let flipped = tamper_signature(&service.inner_jwt(claims));
    let flipped = service.seal_inner(flipped.as_bytes());
    case("nested-jwt-tampered-signature", Kind::Access, flipped, NOW_S, "reject:bad-signature", None);
    let zipped = service.sign_with_header(br#"{"alg":"RS256","typ":"JWT","zip":"DEF"}"#, claims);
    let zipped = service.seal_inner(zipped.as_bytes());
    case("zip-in-nested-jwt-header", Kind::Access, zipped, NOW_S, "reject:unsupported-algorithm", None);
}

/// The `private` JWE inside an access token.
fn private_jwe(token: &str) -> String {
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts(token)[1]).expect("base64url"))
            .expect("our payload is JSON");
    payload["private"].as_str().expect("an access token has `private`").to_string()
}

/// Flips one bit of JWE part `index` (2: IV, 3: ciphertext) and signs the result properly.
fn tamper_jwe_part(service: &TokenService, token: &str, index: usize) -> String {
    let mut jwe = parts(&private_jwe(token));
    let mut bytes = URL_SAFE_NO_PAD.decode(&jwe[index]).expect("base64url");
    bytes[0] ^= 0x01;
    jwe[index] = URL_SAFE_NO_PAD.encode(bytes);
    service.sign(&serde_json::to_vec(&json!({ "private": jwe.join(".") })).expect("serializes"))
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

pub fn parts(token: &str) -> Vec<String> {
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

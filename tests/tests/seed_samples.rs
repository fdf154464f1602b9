//! The documents' own tokens. The German document prints a real access token and a real
//! refresh token from a live cluster (`tests/fixtures/seed-sample-tokens.json`, copied
//! verbatim). We do not hold that cluster's keys, so nobody can accept them; but both
//! validators must read them as tokens of the right shape and stop exactly where a consumer
//! without the issuer's keys stops, at `unknown-signing-key`, never at `malformed`. And the
//! sample refresh payload, re-signed byte for byte with our key, must be accepted by both,
//! which pins our reading of its claims (`ctyp`, `ccid`) to the real format.
//!
//! How: parse the fixture; run the component and the native reference validator on each
//! token; then sign the sample payload with a `TokenService` key and accept it under the
//! sample's issuer.

mod common;

use std::sync::Arc;

use authzlab::seeds::Seeds;
use authzlab::tokens::{Lifetimes, TokenService};
use authzlab_host::{reference, Keyring, Rejection, Request, TokenKind, Verdict};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

struct Samples {
    issuer: String,
    access_token: String,
    refresh_token: String,
}

fn samples() -> Samples {
    let text =
        std::fs::read_to_string(common::repo().join("tests/fixtures/seed-sample-tokens.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let field = |name: &str| json[name].as_str().unwrap().to_string();
    Samples {
        issuer: field("issuer"),
        access_token: field("access_token"),
        refresh_token: field("refresh_token"),
    }
}

/// The sample's exp is in 2017; validate a minute before it.
const SAMPLE_EXP: u64 = 1_502_620_052;

fn request(token: &str, kind: TokenKind) -> Request {
    Request { token: token.to_string(), kind, now: SAMPLE_EXP - 60, consumer: "unity-connection".to_string() }
}

fn part(token: &str, index: usize) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(token.split('.').nth(index).unwrap()).unwrap()
}

/// Both validators' verdicts on `request` with `keyring`.
fn both(keyring: Keyring, request: &Request) -> (Verdict, Verdict) {
    let mut plugin = common::load(authzlab_plugins::UNITY_CONNECTION);
    let native = Verdict::from(reference::validate(&keyring, request));
    let component = plugin.validate(Arc::new(keyring), request);
    (component, native)
}

#[test]
fn the_sample_tokens_are_read_up_to_the_key_we_do_not_hold() {
    let samples = samples();
    let kid = "8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b";
    for (token, kind) in
        [(&samples.access_token, TokenKind::Access), (&samples.refresh_token, TokenKind::Refresh)]
    {
        let (component, native) = both(Keyring::new(samples.issuer.clone()), &request(token, kind));
        let expected = Verdict::Rejected(Rejection::UnknownSigningKey(kid.to_string()));
        assert_eq!(native, expected, "{kind:?}");
        assert_eq!(component, expected, "{kind:?}");
    }
}

#[test]
fn the_sample_refresh_payload_is_the_documented_one_with_ctyp() {
    let payload = part(&samples().refresh_token, 1);
    assert_eq!(
        String::from_utf8(payload).unwrap(),
        r#"{"exp":1502620052,"iss":"8d0d5324-f4f0-4b0b-811e-4a59fdb6b722","typ":"user","tid":"b991221f-f42e-4e52-8871-c876e635dd5b","ctyp":"refresh","ccid":"C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a"}"#
    );
    // The access sample's JWE has the documented sizes: 16-byte IV, 624-byte ciphertext.
    let private: Value = serde_json::from_slice(&part(&samples().access_token, 1)).unwrap();
    let jwe = private["private"].as_str().unwrap();
    let sizes: Vec<usize> = jwe.split('.').map(|p| URL_SAFE_NO_PAD.decode(p).unwrap().len()).collect();
    assert_eq!(sizes[1..], [0, 16, 624, 16]);
    assert_eq!(part(&samples().access_token, 2).len(), 256, "an RSA-2048 signature");
}

#[test]
fn the_sample_refresh_payload_resigned_with_our_key_is_accepted_with_its_ccid() {
    let samples = samples();
    let service = TokenService::new(&Seeds::new(1), Lifetimes::defaults());
    let payload = part(&samples.refresh_token, 1);
    let token = service.sign(&payload);
    assert_eq!(part(&token, 1), payload, "signed byte for byte");
    let mut keyring = Keyring::new(samples.issuer.clone());
    keyring.add_signing_key_der(&service.keys.signing_kid(), service.keys.signing.public_der()).unwrap();
    let (component, native) = both(keyring, &request(&token, TokenKind::Refresh));
    assert_eq!(component, native);
    let Verdict::Accepted(claims) = native else { panic!("refused: {native:?}") };
    assert_eq!(claims.client_id, "C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a");
    assert_eq!(claims.token_id, "b991221f-f42e-4e52-8871-c876e635dd5b");
    assert_eq!((claims.issuer.as_str(), claims.expires_at), (samples.issuer.as_str(), SAMPLE_EXP));

    // The same token offered as an access token says what it is.
    let keyring = {
        let mut keyring = Keyring::new(samples.issuer.clone());
        keyring.add_signing_key_der(&service.keys.signing_kid(), service.keys.signing.public_der()).unwrap();
        keyring
    };
    let (component, native) = both(keyring, &request(&token, TokenKind::Access));
    let expected = Verdict::Rejected(Rejection::WrongTokenType("refresh".to_string()));
    assert_eq!((component, native), (expected.clone(), expected));
}

//! The native reference validator: the contract's verdict order, written against the host's
//! keyring without wasm. Plugins are held to its verdicts by the conformance vectors; it is
//! written apart from the SDK on purpose, so that a shared mistake is less likely than a
//! caught one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::keyring::Keyring;
use crate::{Claims, KeyError, Rejection, Request, TokenKind, CLOCK_LEEWAY_S};

type Object = Map<String, Value>;

/// Validates `request.token` with `keyring`; the first failed check, in the WIT contract's
/// order, is the verdict.
pub fn validate(keyring: &Keyring, request: &Request) -> Result<Claims, Rejection> {
    let token = request.token.as_str();
    let [header_b64, payload_b64, signature_b64] = split::<3>(token, "JWS")?;
    let header = object(header_b64, "JWS header")?;
    let signature = bytes(signature_b64, "JWS signature")?;
    let alg = text(&header, "alg", "JWS header")?;
    if alg != "RS256" {
        return Err(Rejection::UnsupportedAlgorithm(alg.to_owned()));
    }
    let kid = text(&header, "kid", "JWS header")?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    match keyring.verify_rs256(kid, signing_input.as_bytes(), &signature) {
        Ok(true) => {}
        Ok(false) => return Err(Rejection::BadSignature),
        Err(KeyError::UnknownKid(_)) => return Err(Rejection::UnknownSigningKey(kid.to_owned())),
        Err(KeyError::BadInput(why)) => return Err(Rejection::Malformed(why)),
    }
    let payload = object(payload_b64, "JWS payload")?;

    let claims = if request.kind == TokenKind::Access {
        let jwe = match payload.get("private") {
            Some(Value::String(jwe)) => jwe,
            Some(_) => return Err(malformed("JWS payload `private` is not a string")),
            None => {
                return Err(match payload.get("ctyp") {
                    Some(Value::String(ctyp)) => Rejection::WrongTokenType(ctyp.clone()),
                    _ => malformed("JWS payload has no `private` JWE"),
                })
            }
        };
        open_jwe(keyring, jwe)?
    } else if payload.contains_key("private") {
        return Err(Rejection::WrongTokenType("access".to_owned()));
    } else {
        payload
    };

    let ctyp = text(&claims, "ctyp", "claims")?;
    let wanted = if request.kind == TokenKind::Access { "access" } else { "refresh" };
    if ctyp != wanted {
        return Err(Rejection::WrongTokenType(ctyp.to_owned()));
    }
    let issuer = text(&claims, "iss", "claims")?;
    if issuer != keyring.trusted_issuer() {
        return Err(Rejection::WrongIssuer(issuer.to_owned()));
    }
    let expires_at = number(&claims, "exp")?;
    let issued_at = if request.kind == TokenKind::Access { number(&claims, "iat")? } else { 0 };
    if issued_at > request.now.saturating_add(CLOCK_LEEWAY_S) {
        return Err(Rejection::NotYetValid(issued_at));
    }
    if request.now >= expires_at.saturating_add(CLOCK_LEEWAY_S) {
        return Err(Rejection::Expired(expires_at));
    }
    let token_id = text(&claims, "tid", "claims")?.to_owned();
    if request.kind == TokenKind::Refresh {
        return Ok(Claims {
            issuer: issuer.to_owned(),
            subject: String::new(),
            client_id: text(&claims, "ccid", "claims")?.to_owned(),
            scope: Vec::new(),
            token_id,
            issued_at,
            expires_at,
        });
    }
    Ok(Claims {
        issuer: issuer.to_owned(),
        subject: text(&claims, "sub", "claims")?.to_owned(),
        client_id: text(&claims, "client_id", "claims")?.to_owned(),
        scope: text(&claims, "scope", "claims")?.split_whitespace().map(str::to_owned).collect(),
        token_id,
        issued_at,
        expires_at,
    })
}

/// The claims inside an access token's `private` JWE.
fn open_jwe(keyring: &Keyring, jwe: &str) -> Result<Object, Rejection> {
    let [protected_b64, encrypted_key_b64, iv_b64, ciphertext_b64, tag_b64] = split::<5>(jwe, "JWE")?;
    let header = object(protected_b64, "JWE header")?;
    let iv = bytes(iv_b64, "JWE IV")?;
    let ciphertext = bytes(ciphertext_b64, "JWE ciphertext")?;
    let tag = bytes(tag_b64, "JWE tag")?;
    let alg = text(&header, "alg", "JWE header")?;
    let enc = text(&header, "enc", "JWE header")?;
    for (value, pinned) in [(alg, "dir"), (enc, "A128CBC-HS256")] {
        if value != pinned {
            return Err(Rejection::UnsupportedAlgorithm(value.to_owned()));
        }
    }
    if !encrypted_key_b64.is_empty() {
        return Err(malformed("a `dir` JWE has an empty encrypted key"));
    }
    let kid = text(&header, "kid", "JWE header")?;
    let plaintext = keyring
        .decrypt_dir_a128cbc_hs256(kid, protected_b64, &iv, &ciphertext, &tag)
        .map_err(|error| match error {
            KeyError::UnknownKid(_) => Rejection::UnknownEncryptionKey(kid.to_owned()),
            KeyError::BadInput(why) => Rejection::Malformed(why),
        })?
        .ok_or(Rejection::DecryptionFailed)?;
    match serde_json::from_slice(&plaintext) {
        Ok(Value::Object(claims)) => Ok(claims),
        Ok(_) => Err(malformed("JWE claims is not a JSON object")),
        Err(_) => Err(malformed("JWE claims is not JSON")),
    }
}

fn malformed(why: &str) -> Rejection {
    Rejection::Malformed(why.to_owned())
}

/// Exactly `N` dot-separated parts.
fn split<'t, const N: usize>(token: &'t str, what: &str) -> Result<[&'t str; N], Rejection> {
    let parts: Vec<&str> = token.split('.').collect();
    let found = parts.len();
    parts.try_into().map_err(|_| Rejection::Malformed(format!("a {what} has {N} parts, found {found}")))
}

fn bytes(part: &str, what: &str) -> Result<Vec<u8>, Rejection> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| Rejection::Malformed(format!("{what} is not base64url")))
}

fn object(part: &str, what: &str) -> Result<Object, Rejection> {
    match serde_json::from_slice(&bytes(part, what)?) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Rejection::Malformed(format!("{what} is not a JSON object"))),
        Err(_) => Err(Rejection::Malformed(format!("{what} is not JSON"))),
    }
}

fn text<'o>(object: &'o Object, name: &str, what: &str) -> Result<&'o str, Rejection> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Rejection::Malformed(format!("{what} has no string `{name}`")))
}

fn number(claims: &Object, name: &str) -> Result<u64, Rejection> {
    claims
        .get(name)
        .and_then(Value::as_u64)
        .ok_or_else(|| Rejection::Malformed(format!("claims has no non-negative integer `{name}`")))
}

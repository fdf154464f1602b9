//! The native reference validator: the contract's verdict order, written against the host's
//! keyring without wasm. Plugins are held to its verdicts by the conformance vectors; it is
//! written apart from the SDK on purpose, so that a shared mistake is less likely than a
//! caught one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::keyring::Keyring;
use crate::weakening::Checks;
use crate::{Claims, KeyError, Rejection, Request, TokenKind};

type Object = Map<String, Value>;

/// Validates `request.token` with `keyring`; the first failed check, in the WIT contract's
/// order, is the verdict.
pub fn validate(keyring: &Keyring, request: &Request) -> Result<Claims, Rejection> {
    validate_with(keyring, request, Checks::FULL)
}

/// [`validate`] with `checks`: all of the contract's, or a deliberately weakened copy that
/// measures the conformance suite ([`crate::weakening`]).
pub fn validate_with(keyring: &Keyring, request: &Request, checks: Checks) -> Result<Claims, Rejection> {
    let token = request.token.as_str();
    if token.len() > TOKEN_BYTES_MAX {
        return Err(Rejection::Malformed(format!("token of {} bytes, over {TOKEN_BYTES_MAX}", token.len())));
    }
    let [header_b64, payload_b64, signature_b64] = split::<3>(token, "JWS")?;
    let header = object(header_b64, "JWS header")?;
    let signature = bytes(signature_b64, "JWS signature")?;
    let alg = text(&header, "alg", "JWS header")?;
    if alg != "RS256" {
        return Err(Rejection::UnsupportedAlgorithm(alg.to_owned()));
    }
    no_extensions(&header, "JWS header", checks)?;
    let kid = text(&header, "kid", "JWS header")?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    verify(keyring, kid, signing_input, &signature)?;
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
        open_nested_jwt(keyring, kid, &open_jwe(keyring, jwe, checks)?, checks)?
    } else if payload.contains_key("private") {
        return Err(Rejection::WrongTokenType("access".to_owned()));
    } else {
        payload
    };

    let ctyp = text(&claims, "ctyp", "claims")?;
    let wanted = if request.kind == TokenKind::Access { "access" } else { "refresh" };
    if ctyp != wanted && checks.token_type() {
        return Err(Rejection::WrongTokenType(ctyp.to_owned()));
    }
    let issuer = text(&claims, "iss", "claims")?;
    if issuer != keyring.trusted_issuer() && checks.issuer() {
        return Err(Rejection::WrongIssuer(issuer.to_owned()));
    }
    let expires_at = number(&claims, "exp")?;
    let issued_at = if request.kind == TokenKind::Access { number(&claims, "iat")? } else { 0 };
    let leeway_s = checks.leeway_s(request.kind);
    if issued_at > request.now.saturating_add(leeway_s) && checks.issue_time() {
        return Err(Rejection::NotYetValid(issued_at));
    }
    if request.now >= expires_at.saturating_add(leeway_s) {
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

/// The plaintext of an access token's `private` JWE.
fn open_jwe(keyring: &Keyring, jwe: &str, checks: Checks) -> Result<Vec<u8>, Rejection> {
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
    no_extensions(&header, "JWE header", checks)?;
    let cty = text(&header, "cty", "JWE header")?;
    if cty != "JWT" && checks.cty() {
        return Err(Rejection::Malformed(format!("JWE `cty` is {cty:?}, not \"JWT\"")));
    }
    if !encrypted_key_b64.is_empty() {
        return Err(malformed("a `dir` JWE has an empty encrypted key"));
    }
    let kid = text(&header, "kid", "JWE header")?;
    keyring
        .decrypt_dir_a128cbc_hs256(kid, protected_b64, &iv, &ciphertext, &tag)
        .map_err(|error| match error {
            KeyError::UnknownKid(_) => Rejection::UnknownEncryptionKey(kid.to_owned()),
            KeyError::BadInput(why) => Rejection::Malformed(why),
        })?
        .ok_or(Rejection::DecryptionFailed)
}

/// The claims of the nested JWT a JWE's plaintext is (`cty: "JWT"`): RS256, verified with
/// the signing key `kid` that verified the outer JWS (the inner header names no key).
fn open_nested_jwt(
    keyring: &Keyring,
    kid: &str,
    plaintext: &[u8],
    checks: Checks,
) -> Result<Object, Rejection> {
    let inner = std::str::from_utf8(plaintext).map_err(|_| malformed("the JWE plaintext is not text"))?;
    let [header_b64, payload_b64, signature_b64] = split::<3>(inner, "nested JWT")?;
    let header = object(header_b64, "nested JWT header")?;
    let signature = bytes(signature_b64, "nested JWT signature")?;
    let alg = text(&header, "alg", "nested JWT header")?;
    if alg != "RS256" {
        return Err(Rejection::UnsupportedAlgorithm(alg.to_owned()));
    }
    no_extensions(&header, "nested JWT header", checks)?;
    if !checks.nested_signature() {
        return object(payload_b64, "nested JWT claims");
    }
    let signing_input = &inner[..header_b64.len() + 1 + payload_b64.len()];
    verify(keyring, kid, signing_input, &signature)?;
    object(payload_b64, "nested JWT claims")
}

/// An RS256 signature over `signing_input` with the signing key `kid`, as a verdict.
fn verify(keyring: &Keyring, kid: &str, signing_input: &str, signature: &[u8]) -> Result<(), Rejection> {
    match keyring.verify_rs256(kid, signing_input.as_bytes(), signature) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Rejection::BadSignature),
        Err(KeyError::UnknownKid(_)) => Err(Rejection::UnknownSigningKey(kid.to_owned())),
        Err(KeyError::BadInput(why)) => Err(Rejection::Malformed(why)),
    }
}

/// Largest token read: real ones are ~1.5 KiB (the SDK's `TOKEN_BYTES_MAX` is the same).
pub const TOKEN_BYTES_MAX: usize = 64 * 1024;

/// `zip` is an unsupported algorithm (nothing is ever decompressed); `crit` is malformed (no
/// extension is understood); `jku`, `jwk`, `x5u`, `x5c` are ignored (keys come from the
/// keyring only, so following them is never possible).
fn no_extensions(header: &Object, what: &str, checks: Checks) -> Result<(), Rejection> {
    if !checks.extensions() {
        return Ok(());
    }
    if let Some(zip) = header.get("zip") {
        let zip = match zip {
            Value::String(zip) => zip.clone(),
            other => other.to_string(),
        };
        return Err(Rejection::UnsupportedAlgorithm(format!("zip {zip}")));
    }
    if header.contains_key("crit") {
        return Err(malformed(&format!("{what} has `crit`: no extension is understood here")));
    }
    Ok(())
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
    json_object(&bytes(part, what)?, what)
}

/// A JSON object with no member twice at any depth (which member wins is parser-dependent,
/// RFC 8259 §4, so a duplicate could mean one thing here and another to the issuer). Read
/// in one pass: every token part goes through here, on the validation's hot path.
fn json_object(bytes: &[u8], what: &str) -> Result<Object, Rejection> {
    match serde_json::from_slice::<NoDuplicates>(bytes) {
        Ok(NoDuplicates(Value::Object(object))) => Ok(object),
        Ok(_) => Err(Rejection::Malformed(format!("{what} is not a JSON object"))),
        Err(error) if error.to_string().starts_with(TWICE) => {
            Err(Rejection::Malformed(format!("{what} has a member twice")))
        }
        Err(_) => Err(Rejection::Malformed(format!("{what} is not JSON"))),
    }
}

/// How a duplicate member fails, told apart from other JSON errors.
const TWICE: &str = "member twice";

/// A JSON value whose objects hold each member once.
struct NoDuplicates(Value);

impl<'de> serde::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Read;
        impl<'de> serde::de::Visitor<'de> for Read {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
                Ok(Value::Bool(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
                Ok(value.into())
            }
            fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
                Ok(value.into())
            }
            fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
                Ok(value.into())
            }
            fn visit_str<E>(self, value: &str) -> Result<Value, E> {
                Ok(Value::String(value.to_owned()))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(NoDuplicates(item)) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut object = Object::new();
                while let Some((name, NoDuplicates(value))) = map.next_entry::<String, NoDuplicates>()? {
                    if object.contains_key(&name) {
                        return Err(serde::de::Error::custom(format!("{TWICE}: `{name}`")));
                    }
                    object.insert(name, value);
                }
                Ok(Value::Object(object))
            }
        }
        deserializer.deserialize_any(Read).map(NoDuplicates)
    }
}

/// A string member; a missing one and one of another type are told apart (in the SDK's words,
/// so that the two validators' verdicts match to the letter).
fn text<'o>(object: &'o Object, name: &str, what: &str) -> Result<&'o str, Rejection> {
    match object.get(name) {
        Some(Value::String(value)) => Ok(value),
        Some(_) => Err(Rejection::Malformed(format!("{what} `{name}` is not a string"))),
        None => Err(Rejection::Malformed(format!("{what} has no `{name}`"))),
    }
}

fn number(claims: &Object, name: &str) -> Result<u64, Rejection> {
    match claims.get(name) {
        Some(value) => value
            .as_u64()
            .ok_or_else(|| Rejection::Malformed(format!("claims `{name}` is not a non-negative integer"))),
        None => Err(Rejection::Malformed(format!("claims has no `{name}`"))),
    }
}

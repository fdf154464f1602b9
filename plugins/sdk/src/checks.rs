//! The checks every CallManager AuthZ token needs, in the contract's order.

use crate::bindings::authzlab::validator::keyring;
use crate::jose::{self, Json, Object};
use crate::{Claims, KeyError, Rejection, Request, TokenKind};

/// Clock leeway between the issuer and the consumer, in seconds. The native reference
/// validator uses the same figure; a plugin that wants another must expect to differ from
/// it on tokens within that margin.
pub const CLOCK_LEEWAY_S: u64 = 30;

/// Largest token the checks read. Real tokens are about 1.5 KiB; a far larger one is refused
/// before any parsing, so a hostile one cannot make a validation slow.
pub const TOKEN_BYTES_MAX: usize = 64 * 1024;

/// A consumer's knobs for [`check`].
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// How far the consumer's clock may be from the issuer's, seconds ([`CLOCK_LEEWAY_S`]
    /// by default, the native reference's).
    pub clock_leeway_s: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { clock_leeway_s: CLOCK_LEEWAY_S }
    }
}

/// Validates `req.token` with the keys the host holds for this consumer (the `keyring`
/// import); the first failing check decides.
pub fn check(req: &Request, policy: Policy) -> Result<Claims, Rejection> {
    if req.token.len() > TOKEN_BYTES_MAX {
        return Err(Rejection::Malformed(format!(
            "token of {} bytes, over {TOKEN_BYTES_MAX}",
            req.token.len()
        )));
    }
    let jws = jose::parse_jws(&req.token).map_err(Rejection::Malformed)?;
    let header_json = jose::decode(jws.header_b64, jose::JWS.header).map_err(Rejection::Malformed)?;
    let header = jose::parse_object(&header_json, jose::JWS.header).map_err(Rejection::Malformed)?;
    let signature = jose::decode(jws.signature_b64, jose::JWS.signature).map_err(Rejection::Malformed)?;
    let alg = jose::string(&header, "alg", jose::JWS.header).map_err(Rejection::Malformed)?;
    if alg != "RS256" {
        return Err(Rejection::UnsupportedAlgorithm(alg.to_string()));
    }
    refuse_extensions(&header, &header_json, jose::JWS.header)?;
    let kid = jose::string(&header, "kid", jose::JWS.header).map_err(Rejection::Malformed)?;
    verify(kid, jws.signing_input, &signature)?;
    let payload_json = jose::decode(jws.payload_b64, "JWS payload").map_err(Rejection::Malformed)?;
    if req.kind == TokenKind::Access {
        // The shape every access token's payload has, read without the JSON parser.
        if let Some(private) = jose::sole_compact_member(&payload_json, "private") {
            return access_claims(kid, private, req, policy);
        }
    }
    let payload = jose::parse_object(&payload_json, "JWS payload").map_err(Rejection::Malformed)?;
    match req.kind {
        TokenKind::Access => access_claims(kid, private_member(&payload)?, req, policy),
        TokenKind::Refresh => {
            if payload.contains_key("private") {
                return Err(Rejection::WrongTokenType("access".into()));
            }
            check_claims(&payload, req, &keyring::trusted_issuer(), policy)
        }
    }
}

/// Header members that change how a token is read, which no CallManager token carries: `zip`
/// (decompression, a bomb waiting to happen) is an unsupported algorithm; `crit` names
/// extensions that must be understood, and none is here (RFC 7515 §4.1.11). `jku`, `jwk`,
/// `x5u` and `x5c` are never followed: keys come from the host only, so they change nothing.
/// `header_json` is the header's own bytes, read again only to quote a `zip` that is not a
/// string.
fn refuse_extensions(header: &Object<'_>, header_json: &[u8], what: &str) -> Result<(), Rejection> {
    if header.contains_key("zip") {
        return Err(Rejection::UnsupportedAlgorithm(format!(
            "zip {}",
            jose::member_text(header_json, "zip")
        )));
    }
    if header.contains_key("crit") {
        return Err(Rejection::Malformed(format!("{what} has `crit`: no extension is understood here")));
    }
    Ok(())
}

/// An access token's claims, from the JWE in its payload's `private` member: decrypted,
/// the nested JWT's signature checked (with the outer JWS's `kid`), then the claims.
fn access_claims(kid: &str, private: &str, req: &Request, policy: Policy) -> Result<Claims, Rejection> {
    let nested = decrypt_jwe(private)?;
    let nested = core::str::from_utf8(&nested)
        .map_err(|_| Rejection::Malformed("the JWE plaintext is not text".into()))?;
    let nested = jose::parse_jws_named(nested, &jose::NESTED_JWT).map_err(Rejection::Malformed)?;
    let claims_json = open_nested_jwt(kid, &nested)?;
    let claims = jose::parse_object(&claims_json, "nested JWT claims").map_err(Rejection::Malformed)?;
    check_claims(&claims, req, &keyring::trusted_issuer(), policy)
}

/// The JWE an access token carries in its payload's `private` member.
fn private_member<'p>(payload: &'p Object<'_>) -> Result<&'p str, Rejection> {
    match payload.get("private") {
        Some(Json::String(private)) => Ok(private),
        Some(_) => Err(Rejection::Malformed("JWS payload `private` is not a string".into())),
        None => {
            // A refresh token offered where an access token belongs says so in its `ctyp`.
            Err(match jose::string(payload, "ctyp", "JWS payload") {
                Ok(ctyp) => Rejection::WrongTokenType(ctyp.to_string()),
                Err(_) => Rejection::Malformed("JWS payload has no `private` JWE".into()),
            })
        }
    }
}

/// Opens a compact `dir`/A128CBC-HS256 JWE: its plaintext.
fn decrypt_jwe(private: &str) -> Result<Vec<u8>, Rejection> {
    let jwe = jose::parse_jwe(private).map_err(Rejection::Malformed)?;
    let header_json = jose::decode(jwe.protected_b64, "JWE header").map_err(Rejection::Malformed)?;
    let header = jose::parse_object(&header_json, "JWE header").map_err(Rejection::Malformed)?;
    let iv = jose::decode(jwe.iv_b64, "JWE IV").map_err(Rejection::Malformed)?;
    let ciphertext = jose::decode(jwe.ciphertext_b64, "JWE ciphertext").map_err(Rejection::Malformed)?;
    let tag = jose::decode(jwe.tag_b64, "JWE tag").map_err(Rejection::Malformed)?;
    let alg = jose::string(&header, "alg", "JWE header").map_err(Rejection::Malformed)?;
    let enc = jose::string(&header, "enc", "JWE header").map_err(Rejection::Malformed)?;
    if alg != "dir" {
        return Err(Rejection::UnsupportedAlgorithm(alg.to_string()));
    }
    if enc != "A128CBC-HS256" {
        return Err(Rejection::UnsupportedAlgorithm(enc.to_string()));
    }
    refuse_extensions(&header, &header_json, "JWE header")?;
    let cty = jose::string(&header, "cty", "JWE header").map_err(Rejection::Malformed)?;
    if cty != "JWT" {
        return Err(Rejection::Malformed(format!("JWE `cty` is {cty:?}, not \"JWT\"")));
    }
    if !jwe.encrypted_key_b64.is_empty() {
        return Err(Rejection::Malformed("a `dir` JWE has an empty encrypted key".into()));
    }
    let kid = jose::string(&header, "kid", "JWE header").map_err(Rejection::Malformed)?;
    match keyring::decrypt_dir_a128cbc_hs256(kid, jwe.protected_b64, &iv, &ciphertext, &tag) {
        Ok(Some(plaintext)) => Ok(plaintext),
        Ok(None) => Err(Rejection::DecryptionFailed),
        Err(KeyError::UnknownKid(_)) => Err(Rejection::UnknownEncryptionKey(kid.into())),
        Err(KeyError::BadInput(why)) => Err(Rejection::Malformed(why)),
    }
}

/// The claims' bytes of the JWT the JWE's plaintext is (`cty: "JWT"`, a nested JWT): RS256,
/// signed with the same key as the outer JWS, whose `kid` is passed in (the inner header
/// names no key; authzlab's assumption, as the documents show only the encrypted form).
fn open_nested_jwt(kid: &str, jws: &jose::Jws<'_>) -> Result<Vec<u8>, Rejection> {
    let names = &jose::NESTED_JWT;
    let header_json = jose::decode(jws.header_b64, names.header).map_err(Rejection::Malformed)?;
    let header = jose::parse_object(&header_json, names.header).map_err(Rejection::Malformed)?;
    let signature = jose::decode(jws.signature_b64, names.signature).map_err(Rejection::Malformed)?;
    let alg = jose::string(&header, "alg", names.header).map_err(Rejection::Malformed)?;
    if alg != "RS256" {
        return Err(Rejection::UnsupportedAlgorithm(alg.to_string()));
    }
    refuse_extensions(&header, &header_json, names.header)?;
    verify(kid, jws.signing_input, &signature)?;
    jose::decode(jws.payload_b64, "nested JWT claims").map_err(Rejection::Malformed)
}

/// An RS256 signature over `signing_input` with the signing key `kid` (the host's
/// `keyring`), as a verdict.
fn verify(kid: &str, signing_input: &str, signature: &[u8]) -> Result<(), Rejection> {
    match keyring::verify_rs256(kid, signing_input.as_bytes(), signature) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Rejection::BadSignature),
        Err(KeyError::UnknownKid(_)) => Err(Rejection::UnknownSigningKey(kid.into())),
        Err(KeyError::BadInput(why)) => Err(Rejection::Malformed(why)),
    }
}

/// [`check`], then the consumer's own `policy_hook` on the claims of a token that passed
/// every check of the contract. The hook's rejection (`denied`, `revoked`) is the verdict;
/// it runs last, as the contract orders it.
pub fn check_with(
    req: &Request,
    policy: Policy,
    policy_hook: impl FnOnce(&Claims) -> Result<(), Rejection>,
) -> Result<Claims, Rejection> {
    let claims = check(req, policy)?;
    policy_hook(&claims)?;
    Ok(claims)
}

/// The scope CallManager AuthZ grants for Unified Communications services (Jabber, phones).
pub const UC_SCOPE: &str = "UnifiedCommunications:readwrite";

/// A policy hook for [`check_with`]: an access token must carry `scope` (`denied`
/// otherwise). Refresh tokens carry no scope and pass, as the contract asks every validator
/// to give the SDK's verdict on them.
pub fn require_scope(kind: TokenKind, claims: &Claims, scope: &str) -> Result<(), Rejection> {
    if kind == TokenKind::Access && !claims.scope.iter().any(|granted| granted == scope) {
        return Err(Rejection::Denied(format!("scope lacks {scope}")));
    }
    Ok(())
}

/// `ctyp`, `iss`, `iat`, `exp`, then the claims the consumer is handed.
fn check_claims(
    claims: &Object<'_>,
    req: &Request,
    trusted_issuer: &str,
    policy: Policy,
) -> Result<Claims, Rejection> {
    let malformed = Rejection::Malformed;
    let ctyp = jose::string(claims, "ctyp", "claims").map_err(malformed)?;
    let expected = match req.kind {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
    };
    if ctyp != expected {
        return Err(Rejection::WrongTokenType(ctyp.to_string()));
    }
    let issuer = jose::string(claims, "iss", "claims").map_err(malformed)?;
    if issuer != trusted_issuer {
        return Err(Rejection::WrongIssuer(issuer.to_string()));
    }
    let expires_at = jose::unsigned(claims, "exp", "claims").map_err(malformed)?;
    let issued_at = match req.kind {
        TokenKind::Access => jose::unsigned(claims, "iat", "claims").map_err(malformed)?,
        // Refresh tokens carry no `iat` in the seed format.
        TokenKind::Refresh => 0,
    };
    if issued_at > req.now.saturating_add(policy.clock_leeway_s) {
        return Err(Rejection::NotYetValid(issued_at));
    }
    if req.now >= expires_at.saturating_add(policy.clock_leeway_s) {
        return Err(Rejection::Expired(expires_at));
    }
    let token_id = jose::string(claims, "tid", "claims").map_err(malformed)?.to_string();
    Ok(match req.kind {
        TokenKind::Access => Claims {
            issuer: issuer.to_string(),
            subject: jose::string(claims, "sub", "claims").map_err(malformed)?.to_string(),
            client_id: jose::string(claims, "client_id", "claims").map_err(malformed)?.to_string(),
            scope: jose::string(claims, "scope", "claims")
                .map_err(malformed)?
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            token_id,
            issued_at,
            expires_at,
        },
        TokenKind::Refresh => Claims {
            issuer: issuer.to_string(),
            subject: String::new(),
            client_id: jose::string(claims, "ccid", "claims").map_err(malformed)?.to_string(),
            scope: Vec::new(),
            token_id,
            issued_at,
            expires_at,
        },
    })
}

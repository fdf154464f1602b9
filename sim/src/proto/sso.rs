//! Single sign-on: the identity provider (ADFS in the documents) authenticates the user and
//! hands the client a signed assertion, which AuthZ checks before it issues anything.
//!
//! Assumption: a real deployment speaks SAML 2.0 with XML signatures. Ours is the same
//! statement (subject, audience, not-on-or-after, one-time id) as a JWS HS256 under a key
//! the IdP and AuthZ share from the SSO set-up (the metadata exchange): real crypto, the
//! same trust, none of the XML.

use josekit::jws::{JwsHeader, HS256};
use josekit::jwt::{self, JwtPayload};
use serde::{Deserialize, Serialize};

/// The identity provider's HTTPS port.
pub const IDP_PORT: u16 = 443;
/// ADFS's passive sign-in endpoint.
pub const IDP_LOGIN_PATH: &str = "/adfs/ls/";
/// How long an assertion may wait for AuthZ. Assumption: SAML's usual NotOnOrAfter window.
pub const ASSERTION_TTL_S: u64 = 300;
/// The audience AuthZ accepts (the SP entity id of CallManager's SSO set-up).
pub const AUDIENCE: &str = "cucm-authz";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdpLoginRequest {
    pub user: String,
    pub client_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdpLoginResponse {
    pub assertion: String,
}

/// The SP metadata the identity provider imported from CallManager's SSO set-up: the serial
/// of the publisher's `tomcat.pem` at that time. After the certificate is regenerated it is
/// stale until SSO is configured again (`reconfigure-sso`). Assumption: the documents say SSO
/// must be reconfigured with the new certificate; ours binds each assertion to the certificate
/// the IdP knows, and AuthZ refuses one bound to a certificate its Tomcat no longer presents.
pub type SpMetadata = std::rc::Rc<std::cell::RefCell<String>>;

/// The shared key that signs assertions. Never printed or traced; the checks learn it.
#[derive(Clone)]
pub struct AssertionKey {
    bytes: [u8; 32],
}

/// A verified assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    pub user: String,
    pub id: String,
    pub expires_at_s: u64,
}

impl AssertionKey {
    pub fn new(bytes: [u8; 32]) -> AssertionKey {
        AssertionKey { bytes }
    }

    /// The key's text forms, for the checks that keep keys out of the trace.
    pub fn secret_forms(&self) -> Vec<String> {
        use base64::Engine;
        vec![hex::encode(self.bytes), base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.bytes)]
    }

    /// The IdP's side: an assertion that `user` signed in now, for the SP whose Tomcat
    /// certificate has serial `sp_certificate` (as the IdP's metadata says).
    pub fn sign(&self, user: &str, id: &str, now_s: u64, sp_certificate: &str) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        let mut payload = JwtPayload::new();
        payload.set_subject(user);
        payload.set_audience(vec![AUDIENCE]);
        payload.set_jwt_id(id);
        payload
            .set_claim("exp", Some((now_s + ASSERTION_TTL_S).into()))
            .expect("exp is a registered numeric claim");
        payload.set_claim("sp_certificate", Some(sp_certificate.into())).expect("a private claim");
        let signer = HS256.signer_from_bytes(self.bytes).expect("a 32-byte key suits HS256");
        jwt::encode_with_signer(&payload, &header, &signer).expect("a small payload signs")
    }

    /// AuthZ's side: the assertion's signature, audience, expiry and the SP certificate it was
    /// made for (`sp_certificate`: the serial Tomcat presents now), checked at `now_s`.
    pub fn verify(
        &self,
        assertion: &str,
        now_s: u64,
        sp_certificate: &str,
    ) -> Result<Assertion, &'static str> {
        let verifier = HS256.verifier_from_bytes(self.bytes).expect("a 32-byte key suits HS256");
        let (payload, _) =
            jwt::decode_with_verifier(assertion, &verifier).map_err(|_| "sso-assertion-invalid")?;
        if payload.audience() != Some(vec![AUDIENCE]) {
            return Err("sso-assertion-invalid");
        }
        let expires_at_s =
            payload.claim("exp").and_then(|exp| exp.as_u64()).ok_or("sso-assertion-invalid")?;
        if now_s >= expires_at_s {
            return Err("sso-assertion-expired");
        }
        if payload.claim("sp_certificate").and_then(|serial| serial.as_str()) != Some(sp_certificate) {
            return Err("sso-metadata-stale");
        }
        match (payload.subject(), payload.jwt_id()) {
            (Some(user), Some(id)) => {
                Ok(Assertion { user: user.to_string(), id: id.to_string(), expires_at_s })
            }
            _ => Err("sso-assertion-invalid"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assertion_verifies_under_its_key_until_it_expires_and_never_under_another() {
        let key = AssertionKey::new([7; 32]);
        let assertion = key.sign("alice", "a1", 1_000, "01AB");
        assert_eq!(
            key.verify(&assertion, 1_000, "02CD"),
            Err("sso-metadata-stale"),
            "another SP certificate"
        );
        assert_eq!(
            key.verify(&assertion, 1_000, "01AB"),
            Ok(Assertion { user: "alice".into(), id: "a1".into(), expires_at_s: 1_000 + ASSERTION_TTL_S })
        );
        assert_eq!(key.verify(&assertion, 1_000 + ASSERTION_TTL_S, "01AB"), Err("sso-assertion-expired"));
        assert_eq!(
            AssertionKey::new([8; 32]).verify(&assertion, 1_000, "01AB"),
            Err("sso-assertion-invalid")
        );
        let mut tampered = assertion.clone();
        tampered.insert(assertion.find('.').unwrap() + 2, 'x');
        assert_eq!(key.verify(&tampered, 1_000, "01AB"), Err("sso-assertion-invalid"));
    }
}

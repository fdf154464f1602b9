//! RS256 verification (RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256) with one key.
//!
//! Every validation verifies two signatures (the token's and the nested JWT's). josekit's
//! verifier asks OpenSSL 3 for SHA-256 by its legacy handle on every call, which costs a
//! provider lookup each time; here the digest is fetched once per process and the key is
//! decoded once, as a provider-native key, so a call is the RSA operation and little else
//! (`cargo bench -p authzlab-host --bench validate`).

use std::sync::LazyLock;

use openssl::md::{Md, MdRef};
use openssl::md_ctx::MdCtx;
use openssl::pkey::{PKey, Public};

/// SHA-256, fetched from OpenSSL's default provider once; the legacy handle if that fails.
static SHA256: LazyLock<Option<Md>> = LazyLock::new(|| Md::fetch(None, "SHA256", None).ok());

fn sha256() -> &'static MdRef {
    SHA256.as_deref().unwrap_or(Md::sha256())
}

/// One RSA public key, ready to verify RS256 signatures.
pub struct Rs256Verifier {
    key: PKey<Public>,
}

impl Rs256Verifier {
    /// From a SubjectPublicKeyInfo DER (callers turn a PKCS#1 key into one first).
    pub fn from_spki_der(der: &[u8]) -> Result<Rs256Verifier, String> {
        let key = PKey::public_key_from_der(der).map_err(|e| e.to_string())?;
        if key.rsa().is_err() {
            return Err("not an RSA key".into());
        }
        Ok(Rs256Verifier { key })
    }

    /// Whether `signature` is this key's RS256 signature of `signing_input`. A signature of
    /// the wrong length, or one OpenSSL cannot read, is simply not valid.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        let Ok(mut context) = MdCtx::new() else { return false };
        context.digest_verify_init(Some(sha256()), &self.key).is_ok()
            && context.digest_verify(signing_input, signature).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jws::{JwsSigner, JwsVerifier, RS256};
    use openssl::rsa::Rsa;

    /// A key pair: the signer as josekit makes it, and the public key's SPKI DER.
    fn key_pair() -> (josekit::jws::alg::rsassa::RsassaJwsSigner, Vec<u8>) {
        let rsa = Rsa::generate(2048).unwrap();
        let private = PKey::from_rsa(rsa).unwrap();
        let signer = RS256.signer_from_der(private.private_key_to_pkcs8().unwrap()).unwrap();
        (signer, private.public_key_to_der().unwrap())
    }

    #[test]
    fn agrees_with_josekit_on_good_tampered_and_foreign_signatures() {
        let (signer, public_der) = key_pair();
        let (other_signer, _) = key_pair();
        let ours = Rs256Verifier::from_spki_der(&public_der).unwrap();
        let josekits = RS256.verifier_from_der(&public_der).unwrap();
        let input = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9";
        let good = signer.sign(input).unwrap();
        let mut flipped = good.clone();
        flipped[100] ^= 1;
        let foreign = other_signer.sign(input).unwrap();
        let cases: [(&[u8], &[u8], bool); 6] = [
            (input, &good, true),
            (b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0", &good, false),
            (input, &flipped, false),
            (input, &foreign, false),
            (input, &good[..255], false),
            (input, b"", false),
        ];
        for (index, (input, signature, expected)) in cases.into_iter().enumerate() {
            assert_eq!(ours.verify(input, signature), expected, "case {index}: ours");
            assert_eq!(josekits.verify(input, signature).is_ok(), expected, "case {index}: josekit");
        }
    }

    #[test]
    fn only_rsa_public_keys_load() {
        let ec = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let ec_der = PKey::from_ec_key(ec).unwrap().public_key_to_der().unwrap();
        assert_eq!(Rs256Verifier::from_spki_der(&ec_der).err().as_deref(), Some("not an RSA key"));
        assert!(Rs256Verifier::from_spki_der(b"not DER").is_err());
    }
}

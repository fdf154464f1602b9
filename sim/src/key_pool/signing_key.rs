//! The RSA key pair AuthZ signs with, made from a seeded stream or loaded from the pool.

use authzlab_host::crypto_time::{self, CryptoOp};
use authzlab_host::KeyChecksum;
use josekit::jws::alg::rsassa::RsassaJwsSigner;
use josekit::jws::{JwsSigner, RS256};
use rand_chacha::ChaCha20Rng;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};

use super::SIGNING_KEY_BITS;

/// The RSA key pair AuthZ signs with (the `authz` certificate's key).
#[derive(Clone)]
pub struct SigningKey {
    signer: RsassaJwsSigner,
    /// PKCS#8 DER, kept only so that checks can make sure it never reaches a trace.
    private_der: Vec<u8>,
    public_der: Vec<u8>,
    checksum: KeyChecksum,
}

impl SigningKey {
    /// A 2048-bit key pair from `rng`: the same stream gives the same key.
    pub fn generate(rng: &mut ChaCha20Rng) -> SigningKey {
        // Key generation only fails for unsupported sizes; 2048 bits is supported.
        let private = rsa::RsaPrivateKey::new(rng, SIGNING_KEY_BITS).expect("2048-bit RSA keys generate");
        let private_der = private.to_pkcs8_der().expect("a fresh RSA key encodes as PKCS#8");
        let public_der = private
            .to_public_key()
            .to_public_key_der()
            .expect("an RSA public key encodes as SPKI")
            .into_vec();
        let signer = RS256
            .signer_from_der(private_der.as_bytes())
            .expect("josekit loads the PKCS#8 DER that rsa just wrote");
        let checksum = KeyChecksum::of(&public_der);
        SigningKey { signer, private_der: private_der.as_bytes().to_vec(), public_der, checksum }
    }

    /// A key pair from PKCS#8 DER (the key pool's form).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<SigningKey, String> {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let private = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|e| e.to_string())?;
        if private.size() * 8 != SIGNING_KEY_BITS {
            return Err(format!("{} bits, not {SIGNING_KEY_BITS}", private.size() * 8));
        }
        let public_der = private.to_public_key().to_public_key_der().map_err(|e| e.to_string())?.into_vec();
        let signer = RS256.signer_from_der(der).map_err(|e| e.to_string())?;
        let checksum = KeyChecksum::of(&public_der);
        Ok(SigningKey { signer, private_der: der.to_vec(), public_der, checksum })
    }

    /// SubjectPublicKeyInfo DER: what consumers receive.
    pub fn public_der(&self) -> &[u8] {
        &self.public_der
    }

    /// PKCS#8 DER of the private key: only for the checks that make sure it never reaches a
    /// trace.
    pub(crate) fn private_der(&self) -> &[u8] {
        &self.private_der
    }

    pub fn checksum(&self) -> KeyChecksum {
        self.checksum
    }

    /// An RS256 signature of `input`.
    pub(crate) fn sign(&self, input: &[u8]) -> Vec<u8> {
        // RS256 signing with a loaded 2048-bit key does not fail.
        crypto_time::measure(CryptoOp::RsaSign, || {
            self.signer.sign(input).expect("RS256 signs with a valid key")
        })
    }
}

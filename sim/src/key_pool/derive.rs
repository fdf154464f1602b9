//! How pool key number `index` is made: the one definition shared by the build script that
//! generates the pool and the test that proves the shipped pool is exactly that.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

/// Keys in the pool. Each costs ~0.1 s to generate, once per build; a run draws keys from
/// it without replacement, so it bounds how many signing keys a run gets for free (later
/// ones are generated during the run, as before the pool existed).
pub const SIGNING_KEY_POOL_SIZE: usize = 32;

/// RSA modulus size of every AuthZ signing key (docs/domain.md: the `authz` certificate is an
/// RSA-2048 key pair).
pub const SIGNING_KEY_BITS: usize = 2048;

// The two functions run in build.rs and in the tests, not in the library.
/// The random stream pool key `index` is generated from: SHA-256 of a fixed label and the
/// index, so the pool is the same on every machine and every build.
#[cfg_attr(not(test), allow(dead_code))]
pub fn pool_rng(index: usize) -> ChaCha20Rng {
    let mut digest = Sha256::new();
    digest.update(b"authzlab signing-key pool/1");
    digest.update((index as u64).to_be_bytes());
    ChaCha20Rng::from_seed(digest.finalize().into())
}

/// Pool key `index` as PKCS#8 DER.
#[cfg_attr(not(test), allow(dead_code))]
pub fn pool_key_der(index: usize) -> Vec<u8> {
    use rsa::pkcs8::EncodePrivateKey;
    // Key generation fails only for unsupported sizes; 2048 bits is supported.
    let key =
        rsa::RsaPrivateKey::new(&mut pool_rng(index), SIGNING_KEY_BITS).expect("2048-bit RSA keys generate");
    key.to_pkcs8_der().expect("a fresh RSA key encodes as PKCS#8").as_bytes().to_vec()
}

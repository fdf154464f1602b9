//! All randomness in the simulation, derived from the scenario seed.
//!
//! Each purpose (`"authz-keys"`, `"token-ids"`, `"jwe-iv"`, ...) gets its own ChaCha20 stream,
//! seeded from SHA-256(seed, purpose). A purpose that draws more or fewer numbers therefore
//! never shifts another's: adding a client does not change the keys.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

/// The scenario seed, from which every random stream is derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeds {
    seed: u64,
}

impl Seeds {
    pub fn new(seed: u64) -> Seeds {
        Seeds { seed }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The random stream for `purpose`.
    pub fn rng(&self, purpose: &str) -> ChaCha20Rng {
        ChaCha20Rng::from_seed(self.derive(purpose))
    }

    /// A 64-bit seed for `purpose` (for turmoil, or for plugins' WASI randomness).
    pub fn derive_u64(&self, purpose: &str) -> u64 {
        let bytes = self.derive(purpose);
        u64::from_be_bytes(bytes[..8].try_into().expect("a SHA-256 digest has 32 bytes"))
    }

    /// SHA-256(seed, purpose).
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut digest = Sha256::new();
        digest.update(self.seed.to_be_bytes());
        digest.update(purpose.as_bytes());
        digest.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use rand_core::RngCore;

    use super::*;

    #[test]
    fn purposes_are_independent_and_reproducible() {
        let seeds = Seeds::new(7);
        assert_eq!(seeds.rng("a").next_u64(), Seeds::new(7).rng("a").next_u64());
        assert_ne!(seeds.rng("a").next_u64(), seeds.rng("b").next_u64());
        assert_ne!(seeds.rng("a").next_u64(), Seeds::new(8).rng("a").next_u64());
    }
}

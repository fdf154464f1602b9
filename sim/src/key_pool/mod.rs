//! Signing keys drawn from a pool of real RSA-2048 key pairs generated once per build.
//!
//! Why: generating an RSA-2048 key from the seeded stream costs 50 to 150 ms, more than the
//! rest of a short scenario once idle time is skipped, so a sweep of seeds was paying mostly
//! for key generation. The keys are still real keys (made by `derive.rs`, the same code a
//! test re-runs), and still chosen by the seed: each run shuffles the pool with its own
//! stream and takes keys in that order, without replacement, so a run never gets the same
//! key twice and different seeds start from different keys. Past the pool, keys are
//! generated from the run's stream as before. Two runs with different seeds may hold the
//! same key; a run is one cluster, so no scenario can notice.

mod derive;
mod signing_key;

use std::sync::OnceLock;

use authzlab_host::crypto_time::{self, CryptoOp};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

pub use derive::{SIGNING_KEY_BITS, SIGNING_KEY_POOL_SIZE};

pub use signing_key::SigningKey;

include!(concat!(env!("OUT_DIR"), "/key_pool.rs"));

/// Pool keys loaded into signers, once per process (loading parses and checks the key).
static LOADED: [OnceLock<SigningKey>; SIGNING_KEY_POOL_SIZE] =
    [const { OnceLock::new() }; SIGNING_KEY_POOL_SIZE];

/// One run's draws from the pool.
pub struct KeyDraw {
    /// Pool indices in the order this run takes them.
    order: Vec<usize>,
    taken: usize,
    /// For keys past the pool.
    fresh: ChaCha20Rng,
}

impl KeyDraw {
    /// A draw shuffled by `rng` (Fisher-Yates), which also seeds the keys past the pool.
    pub fn new(rng: &mut ChaCha20Rng) -> KeyDraw {
        let mut order: Vec<usize> = (0..SIGNING_KEY_POOL_SIZE).collect();
        for last in (1..order.len()).rev() {
            // A modulo bias of at most 32 in 2^64 does not matter for choosing test keys.
            let pick = (rng.next_u64() % (last as u64 + 1)) as usize;
            order.swap(last, pick);
        }
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        KeyDraw { order, taken: 0, fresh: ChaCha20Rng::from_seed(seed) }
    }

    /// The next signing key of this run: never one it had before.
    pub fn next_signing_key(&mut self) -> SigningKey {
        let key = crypto_time::measure(CryptoOp::KeyLoad, || match self.order.get(self.taken) {
            Some(&index) => LOADED[index]
                .get_or_init(|| {
                    SigningKey::from_pkcs8_der(SIGNING_KEY_POOL[index])
                        .expect("pool keys are made by derive.rs, which a test checks")
                })
                .clone(),
            None => SigningKey::generate(&mut self.fresh),
        });
        self.taken += 1;
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_pool_is_what_derive_makes() {
        // Two keys re-derived (each ~0.1 s), the first and the last: the build script wrote
        // the pool with this code, in this order.
        for index in [0, SIGNING_KEY_POOL_SIZE - 1] {
            assert_eq!(SIGNING_KEY_POOL[index], derive::pool_key_der(index).as_slice(), "pool key {index}");
        }
        let mut checksums: Vec<String> = (0..SIGNING_KEY_POOL_SIZE)
            .map(|index| SigningKey::from_pkcs8_der(SIGNING_KEY_POOL[index]).unwrap().checksum().to_string())
            .collect();
        checksums.sort();
        checksums.dedup();
        assert_eq!(checksums.len(), SIGNING_KEY_POOL_SIZE, "every pool key is different");
    }

    #[test]
    fn a_run_never_draws_a_key_twice_even_past_the_pool() {
        let mut draw = KeyDraw::new(&mut ChaCha20Rng::seed_from_u64(7));
        let mut seen: Vec<String> =
            (0..SIGNING_KEY_POOL_SIZE + 1).map(|_| draw.next_signing_key().checksum().to_string()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), SIGNING_KEY_POOL_SIZE + 1);
    }

    #[test]
    fn the_seed_chooses_the_keys() {
        let first = |seed| KeyDraw::new(&mut ChaCha20Rng::seed_from_u64(seed)).order;
        assert_eq!(first(1), first(1));
        assert_ne!(first(1), first(2));
        let mut sorted = first(3);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..SIGNING_KEY_POOL_SIZE).collect::<Vec<_>>(), "a permutation");
    }
}

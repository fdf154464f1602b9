//! The implicit grant's opaque access tokens, as the issuing node keeps them: in memory only
//! (docs/domain.md "Two grant flows": not self-contained; only the issuer can say whether one is
//! valid, so every other node asks it, in proxy mode).

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;

use crate::tokens::{token_hash, uuid_v4};

/// Opaque tokens one node holds at once; past it the soonest to expire are forgotten (a
/// client whose token was forgotten signs in again). Bounds the node's memory.
pub const OPAQUE_TOKENS_MAX: usize = 100_000;

/// What the issuer remembers of one token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpaqueGrant {
    pub tid: String,
    pub user: String,
    pub client: String,
    pub exp: u64,
}

/// A freshly issued opaque token.
pub struct OpaqueToken {
    /// The bearer string (secret: it goes only to the client).
    pub token: String,
    pub grant: OpaqueGrant,
}

/// Why the issuer does not vouch for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotActive {
    Expired,
    Unknown,
}

impl NotActive {
    pub fn reason(self) -> &'static str {
        match self {
            NotActive::Expired => "expired",
            NotActive::Unknown => "unknown-token",
        }
    }
}

/// The issuer's memory, keyed by the token's hash (as the refresh-token table, a dump of it
/// holds nothing a client could present).
pub struct OpaqueTokens {
    by_hash: BTreeMap<String, OpaqueGrant>,
    /// `(exp, hash)`: the order in which tokens expire, to forget them.
    by_expiry: BTreeMap<(u64, String), ()>,
    rng: ChaCha20Rng,
}

/// Whether a bearer string is an opaque token rather than a compact JWS (which has dots).
pub fn is_opaque(token: &str) -> bool {
    !token.is_empty() && !token.contains('.')
}

impl OpaqueTokens {
    pub fn new(rng: ChaCha20Rng) -> OpaqueTokens {
        OpaqueTokens { by_hash: BTreeMap::new(), by_expiry: BTreeMap::new(), rng }
    }

    /// Issues a token for `user` on `client`, valid until `exp`; forgets the expired ones.
    pub fn issue(&mut self, user: &str, client: &str, now_s: u64, exp: u64) -> OpaqueToken {
        self.forget_expired(now_s);
        while self.by_hash.len() >= OPAQUE_TOKENS_MAX {
            let Some(((_, hash), ())) = self.by_expiry.pop_first() else { break };
            self.by_hash.remove(&hash);
        }
        let mut bytes = [0u8; 32];
        self.rng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let grant = OpaqueGrant {
            tid: uuid_v4(&mut self.rng),
            user: user.to_string(),
            client: client.to_string(),
            exp,
        };
        let hash = token_hash(&token);
        self.by_expiry.insert((exp, hash.clone()), ());
        self.by_hash.insert(hash, grant.clone());
        OpaqueToken { token, grant }
    }

    /// What the issuer says of `token` at `now_s`.
    pub fn introspect(&self, token: &str, now_s: u64) -> Result<&OpaqueGrant, NotActive> {
        match self.by_hash.get(&token_hash(token)) {
            Some(grant) if now_s < grant.exp => Ok(grant),
            Some(_) => Err(NotActive::Expired),
            None => Err(NotActive::Unknown),
        }
    }

    /// Forgets every token (the node's memory is gone after a crash).
    pub fn forget_all(&mut self) {
        self.by_hash.clear();
        self.by_expiry.clear();
    }

    /// Tokens held now.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    fn forget_expired(&mut self, now_s: u64) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > now_s {
                break;
            }
            let (_, hash) = entry.remove_entry().0;
            self.by_hash.remove(&hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng;

    use super::*;

    #[test]
    fn the_issuer_vouches_for_its_tokens_until_they_expire_and_for_no_other() {
        let mut tokens = OpaqueTokens::new(ChaCha20Rng::seed_from_u64(1));
        let issued = tokens.issue("alice", "rtmt-1", 1_000, 4_600);
        assert!(is_opaque(&issued.token), "{}", issued.token);
        assert_eq!(tokens.introspect(&issued.token, 4_599), Ok(&issued.grant));
        assert_eq!(tokens.introspect(&issued.token, 4_600), Err(NotActive::Expired));
        assert_eq!(tokens.introspect("not-a-token-it-issued", 1_000), Err(NotActive::Unknown));
        // Issuing after its expiry forgets it.
        tokens.issue("bob", "rtmt-2", 4_600, 8_200);
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens.introspect(&issued.token, 4_599), Err(NotActive::Unknown));
    }

    #[test]
    fn a_full_memory_forgets_the_soonest_to_expire() {
        let mut tokens = OpaqueTokens::new(ChaCha20Rng::seed_from_u64(2));
        let first = tokens.issue("alice", "jabber-1", 0, 10);
        for n in 1..OPAQUE_TOKENS_MAX {
            tokens.issue("bob", "jabber-2", 0, 100 + n as u64);
        }
        assert_eq!(tokens.len(), OPAQUE_TOKENS_MAX);
        let last = tokens.issue("carol", "jabber-3", 0, 1_000_000);
        assert_eq!(tokens.len(), OPAQUE_TOKENS_MAX);
        assert_eq!(tokens.introspect(&first.token, 1), Err(NotActive::Unknown));
        assert!(tokens.introspect(&last.token, 1).is_ok());
    }
}

//! Fetching the signing and encryption keys from an Authz server, as token consumers
//! outside the cluster do (Unity Connection's "Authz Server" entry, Expressway-C).
//!
//! The fetch stays lazy: at start-up, and again when a token names a key the consumer does
//! not hold. The documents say Unity Connection is configured to fetch the keys from
//! CallManager; they say nothing of CallManager telling it about a regeneration, and the
//! documented fix for a key mismatch acts on CallManager and IM and Presence nodes only. So a
//! consumer keeps accepting tokens of a replaced key until a token under the new key reaches
//! it (assumption). The documents also say a regeneration invalidates every access token
//! AuthZ issued: that window is where the model and the documents part, and the run names it
//! as the anomaly `stale-consumer-key` (`check::anomalies`) instead of hiding it.

use std::time::Duration;

use authzlab_host::Keyring;

use crate::clock;
use crate::node::key_checksums;
use crate::node_id::NodeId;
use crate::proto::authz::{KeyBundle, HTTPS_PORT, KEYS_PATH};
use crate::proto::http::Call;
use crate::trace::{Happening, Tracer};

/// A consumer fetches keys at most once per this many seconds on unknown kids, so a flood of
/// foreign tokens cannot turn into a flood of fetches against AuthZ. Assumption (docs/domain.md).
pub const KEY_REFETCH_INTERVAL_S: u64 = 60;
/// Attempts of the first key fetch at start-up, and the pause between them.
pub const KEY_FETCH_ATTEMPTS_MAX: u32 = 30;
pub const KEY_FETCH_RETRY: Duration = Duration::from_secs(10);

/// The keys from `server`, trying up to `attempts` times; `keys-fetched` or
/// `key-fetch-failed` in the trace says how it went.
pub async fn fetch(server: &NodeId, cause: &str, attempts: u32, tracer: &Tracer) -> Option<Keyring> {
    for attempt in 1..=attempts {
        let bundle = Call::get(server, HTTPS_PORT, KEYS_PATH, tracer.node()).fetch::<KeyBundle>().await;
        match bundle.and_then(|bundle| bundle.keyring()) {
            Ok(keyring) => {
                let (signing_key, encryption_key) = key_checksums(&keyring);
                tracer.emit(Happening::KeysFetched {
                    from: server.to_string(),
                    cause: cause.to_string(),
                    signing_key,
                    encryption_key,
                });
                return Some(keyring);
            }
            Err(reason) if attempt == attempts => {
                tracer.emit(Happening::KeyFetchFailed { from: server.to_string(), reason });
            }
            Err(_) => clock::sleep(KEY_FETCH_RETRY).await,
        }
    }
    None
}

/// Whether a rejection calls for fetching the keys again: the token names a key not held,
/// and the last fetch is at least [`KEY_REFETCH_INTERVAL_S`] old. Records the fetch.
pub fn refetch_due(reason: &str, last_fetch_s: &mut Option<u64>, now_s: u64) -> bool {
    let unknown_key = matches!(reason, "unknown-signing-key" | "unknown-encryption-key");
    let may_fetch = last_fetch_s.is_none_or(|last| now_s >= last + KEY_REFETCH_INTERVAL_S);
    let due = unknown_key && may_fetch;
    if due {
        *last_fetch_s = Some(now_s);
    }
    due
}

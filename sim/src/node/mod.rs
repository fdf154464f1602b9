//! Node programs: one file per kind of node, each with one `run`. Nodes know nothing of
//! the simulation beyond time (`clock`), their seeded randomness and the trace; they never
//! see `check/`.
//!
//! * [`cucm_pub`]: CallManager publisher: AuthZ (keys, tokens, refresh-token table).
//! * [`cucm_sub`]: CallManager subscriber: receives keys, validates tokens (UDS).
//! * [`unity`]: Unity Connection: fetches keys, validates voicemail logins via a plugin.
//! * [`jabber`]: a Jabber client: logs in, refreshes, checks voicemail.
//! * [`site`]: a site host running many clients as tasks.

pub mod cucm_pub;
pub mod cucm_sub;
pub mod jabber;
pub mod site;
pub mod unity;

use serde_json::Value;

use authzlab_host::{Claims, KeyChecksum, Keyring, Rejection, Verdict};

/// A checksum as trace fields write it.
pub fn checksum_field(checksum: KeyChecksum) -> Value {
    Value::String(checksum.to_string())
}

/// The checksums of the keys a node now holds, as `keys-synced` and `keys-fetched` record
/// them (a bundle carries one key of each kind).
pub fn held_key_fields(keyring: &Keyring) -> [(&'static str, Value); 2] {
    let signing = keyring.signing_keys().next().map(|(_, checksum)| checksum_field(checksum));
    let encryption = keyring.encryption_keys().next().map(|(_, checksum)| checksum_field(checksum));
    [("signing_key", signing.unwrap_or_default()), ("encryption_key", encryption.unwrap_or_default())]
}

/// Text as a trace field.
pub fn text(value: impl Into<String>) -> Value {
    Value::String(value.into())
}

/// What every token-acceptance event records: who presented it, whose it is, its id and its
/// expiry (which `no_access_token_accepted_after_expiry` checks).
pub fn accepted_fields(client: Value, claims: &Claims) -> [(&'static str, Value); 4] {
    [
        ("client", client),
        ("user", text(&claims.subject)),
        ("tid", text(&claims.token_id)),
        ("exp", claims.expires_at.into()),
    ]
}

/// What every token-refusal event records: who presented it, why it was refused, and where
/// the reason names a key, the token's `kid` (to compare with the keys the node holds, as the
/// troubleshooting rule compares checksums across nodes); a plugin fault adds its detail.
pub fn rejected_fields(client: Value, verdict: &Verdict) -> Vec<(&'static str, Value)> {
    let mut fields = vec![("client", client), ("reason", text(verdict.reason().unwrap_or("unknown")))];
    match verdict {
        Verdict::Rejected(Rejection::UnknownSigningKey(kid) | Rejection::UnknownEncryptionKey(kid)) => {
            fields.push(("kid", text(kid)));
        }
        Verdict::PluginFault { reason, .. } => fields.push(("detail", text(reason))),
        _ => {}
    }
    fields
}

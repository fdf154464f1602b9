//! What every token-refusal event records.

use authzlab_host::{Rejection, Verdict};

use crate::trace::reason::Reason;

/// What every token-refusal event records: why the token was refused, and where the reason
/// names a key, the token's `kid` (to compare with the keys the node holds, as the
/// troubleshooting rule compares checksums across nodes); a plugin fault adds its detail.
pub struct Refusal {
    pub reason: String,
    pub kid: Option<String>,
    pub detail: Option<String>,
}

impl Refusal {
    pub fn of(verdict: &Verdict) -> Refusal {
        let reason = verdict.reason().unwrap_or("unknown").to_string();
        match verdict {
            Verdict::Rejected(Rejection::UnknownSigningKey(kid) | Rejection::UnknownEncryptionKey(kid)) => {
                Refusal { reason, kid: Some(kid.clone()), detail: None }
            }
            Verdict::PluginFault { reason: detail, .. } => {
                Refusal { reason, kid: None, detail: Some(detail.clone()) }
            }
            _ => Refusal { reason, kid: None, detail: None },
        }
    }

    /// A refusal of the node's own, before or after any validator runs.
    pub fn because(reason: Reason) -> Refusal {
        Refusal { reason: reason.name().to_string(), kid: None, detail: None }
    }

    /// A refusal another node gave (proxy mode: the issuer's answer).
    pub fn relayed(reason: &str) -> Refusal {
        Refusal { reason: reason.to_string(), kid: None, detail: None }
    }
}

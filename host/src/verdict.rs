//! What one validation decided.

use std::fmt;

use crate::{Claims, Rejection};

/// The outcome of presenting a token to a validator: the plugin's answer, or the fault that
/// stopped it. A fault ends that call only; the host serves the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted(Claims),
    Rejected(Rejection),
    /// The plugin trapped, ran out of fuel or memory; `reason` says which.
    PluginFault {
        plugin: String,
        reason: String,
    },
}

impl Verdict {
    /// The verdict's name as a vectors file writes it: `accept`, `reject:<rejection>` or
    /// `plugin-fault`.
    pub fn name(&self) -> String {
        match self {
            Verdict::Accepted(_) => "accept".to_string(),
            Verdict::Rejected(rejection) => format!("reject:{}", rejection_name(rejection)),
            Verdict::PluginFault { .. } => "plugin-fault".to_string(),
        }
    }

    /// The rejection's kebab-case name, `plugin-fault`, or `None` when accepted.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Verdict::Accepted(_) => None,
            Verdict::Rejected(rejection) => Some(rejection_name(rejection)),
            Verdict::PluginFault { .. } => Some("plugin-fault"),
        }
    }

    pub fn is_accepted(&self) -> bool {
        matches!(self, Verdict::Accepted(_))
    }
}

impl From<Result<Claims, Rejection>> for Verdict {
    fn from(result: Result<Claims, Rejection>) -> Self {
        match result {
            Ok(claims) => Verdict::Accepted(claims),
            Err(rejection) => Verdict::Rejected(rejection),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accepted(claims) => write!(f, "accept (sub {})", claims.subject),
            Verdict::Rejected(rejection) => match rejection_detail(rejection) {
                Some(detail) => write!(f, "reject:{} ({detail})", rejection_name(rejection)),
                None => write!(f, "reject:{}", rejection_name(rejection)),
            },
            Verdict::PluginFault { plugin, reason } => write!(f, "plugin-fault ({plugin}: {reason})"),
        }
    }
}

/// The WIT case name of a rejection, as `reject:<name>` in a vectors file.
pub fn rejection_name(rejection: &Rejection) -> &'static str {
    match rejection {
        Rejection::Malformed(_) => "malformed",
        Rejection::UnsupportedAlgorithm(_) => "unsupported-algorithm",
        Rejection::UnknownSigningKey(_) => "unknown-signing-key",
        Rejection::BadSignature => "bad-signature",
        Rejection::UnknownEncryptionKey(_) => "unknown-encryption-key",
        Rejection::DecryptionFailed => "decryption-failed",
        Rejection::Expired(_) => "expired",
        Rejection::NotYetValid(_) => "not-yet-valid",
        Rejection::WrongIssuer(_) => "wrong-issuer",
        Rejection::WrongTokenType(_) => "wrong-token-type",
        Rejection::Revoked => "revoked",
        Rejection::Denied(_) => "denied",
    }
}

/// The payload of a rejection, for people (never compared: two validators may word a
/// `malformed` reason differently and still agree).
pub fn rejection_detail(rejection: &Rejection) -> Option<String> {
    match rejection {
        Rejection::Malformed(why) | Rejection::Denied(why) => Some(why.clone()),
        Rejection::UnsupportedAlgorithm(alg) => Some(format!("alg {alg}")),
        Rejection::UnknownSigningKey(kid) | Rejection::UnknownEncryptionKey(kid) => {
            Some(format!("kid {kid}"))
        }
        Rejection::Expired(exp) => Some(format!("exp {exp}")),
        Rejection::NotYetValid(iat) => Some(format!("iat {iat}")),
        Rejection::WrongIssuer(iss) => Some(format!("iss {iss}")),
        Rejection::WrongTokenType(ctyp) => Some(format!("ctyp {ctyp}")),
        Rejection::BadSignature | Rejection::DecryptionFailed | Rejection::Revoked => None,
    }
}

//! Node programs, a folder per role. Nodes know nothing of the simulation beyond time
//! (`clock`), their seeded randomness and the trace; they never see `check/`.
//!
//! * [`publisher`]: the CallManager publisher's AuthZ: keys, grants, the refresh-token
//!   table, its purge and revocation, and SIP OAuth as the publisher administers it.
//! * [`subscriber`]: a CallManager subscriber: receives keys, validates tokens (UDS,
//!   PerfmonService), Cisco CallManager's SIP registration, TFTP.
//! * [`imp`]: an IM and Presence node: receives keys, validates XMPP logins via a plugin.
//! * [`unity`]: Unity Connection: fetches keys, validates voicemail logins via a plugin.
//! * [`edge`]: the MRA edge, Expressway-E and Expressway-C.
//! * [`client`]: what runs on the sites: Jabber, phones, RTMT, their logins and SIP
//!   registrations, and the administrator's console.
//! * [`idp`]: the identity provider (SSO): authenticates users, counts their logins.
//! * [`authz`]: what every token consumer shares: its keys (on disk, loaded, fetched), the
//!   implicit grant's opaque tokens and proxy mode, and the refusals it records.

pub mod authz;
pub mod client;
pub mod edge;
pub mod idp;
pub mod imp;
pub mod publisher;
pub mod subscriber;
pub mod unity;

use authzlab_host::{reference, Claims, KeyChecksum, Keyring, Rejection, Request, TokenKind, Verdict};

use crate::proto::authz::oauth_error;
use crate::proto::http::HttpResponse;
use crate::proto::tls::TlsFailure;
use crate::trace::{Happening, Tracer};

/// AuthZ's check of a refresh token with the keys a node uses (the publisher's, or a home
/// node's loaded ones; `None`: it has none yet): the token's claims, or the refusal, recorded
/// as `refresh-rejected`, as the OAuth error to answer.
pub fn verify_refresh_token(
    keyring: Option<&Keyring>,
    token: &str,
    now_s: u64,
    client: &str,
    tracer: &Tracer,
) -> Result<Claims, HttpResponse> {
    let request = Request {
        token: token.to_string(),
        kind: TokenKind::Refresh,
        now: now_s,
        consumer: "cucm-authz".to_string(),
    };
    let Refusal { reason, kid, detail } =
        match keyring.map(|keyring| Verdict::from(reference::validate(keyring, &request))) {
            Some(Verdict::Accepted(claims)) => return Ok(claims),
            Some(verdict) => Refusal::of(&verdict),
            None => Refusal::plain("no-keys-or-token"),
        };
    let response = oauth_error("invalid_grant", &reason);
    tracer.emit(Happening::RefreshRejected {
        client: client.to_string(),
        reason,
        kid,
        detail,
        refresh_tid: None,
    });
    Err(response)
}

/// A checksum as trace fields write it.
pub fn checksum_field(checksum: KeyChecksum) -> String {
    checksum.to_string()
}

/// The checksums of the keys a node now holds, signing then encryption, as `keys-synced`,
/// `keys-fetched` and `keys-served` record them (a bundle carries one key of each kind).
pub fn key_checksums(keyring: &Keyring) -> (String, String) {
    let signing = keyring.signing_keys().next().map(|(_, checksum)| checksum_field(checksum));
    let encryption = keyring.encryption_keys().next().map(|(_, checksum)| checksum_field(checksum));
    (signing.unwrap_or_default(), encryption.unwrap_or_default())
}

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

    /// A refusal before any validation, e.g. `no-keys-or-token`.
    pub fn plain(reason: &str) -> Refusal {
        Refusal { reason: reason.to_string(), kid: None, detail: None }
    }
}

/// A failed TLS handshake in the trace, as this side (CallManager's port, Expressway-C) saw it.
pub fn handshake_failed(tracer: &Tracer, peer: Option<&str>, port: u16, failure: &TlsFailure) {
    let (alert, sent, detail) = match failure {
        TlsFailure::Alert { alert, sent, detail } => (alert.clone(), *sent, detail.clone()),
        other => ("none".to_string(), false, other.to_string()),
    };
    tracer.emit(Happening::TlsHandshakeFailed { peer: peer.map(str::to_string), port, alert, sent, detail });
}

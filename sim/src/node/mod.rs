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
//! * [`certificate_management`]: regenerating a certificate and what a restarted service
//!   presents, the same on every node.
//! * [`idp`]: the identity provider (SSO): authenticates users, counts their logins.
//! * [`ipsec_trust`]: the CallManager publisher's `ipsec.pem` in every other node's
//!   IPSec-trust: DRF's check, the documented serial comparison, taking the new one.
//! * [`multi_san_tomcat`]: the CA-signed multi-SAN `tomcat.pem`, made on the CallManager
//!   publisher and installed on every node.
//! * [`platform_commands`]: what a subscriber or IM and Presence node takes from its
//!   administrator (CLI, Control Center, Certificate Management).
//! * [`proxy_tftp`]: another cluster's TFTP that this cluster's phones use as their proxy
//!   TFTP (14SU1), with its own phone-edge-trust.
//! * [`tomcat_tls`]: what Cisco Tomcat presents on 8443 to a phone that starts TLS.
//! * [`authz`]: what every token consumer shares: its keys (on disk, loaded, fetched), the
//!   implicit grant's opaque tokens and proxy mode, and the refusals it records.

pub mod authz;
pub mod certificate_management;
pub mod client;
pub mod edge;
pub mod idp;
pub mod imp;
pub mod ipsec_trust;
pub mod multi_san_tomcat;
pub mod platform_commands;
pub mod proxy_tftp;
pub mod publisher;
pub mod subscriber;
pub mod tomcat_tls;
pub mod unity;

use authzlab_host::{KeyChecksum, Keyring};

use crate::proto::tls::TlsFailure;
use crate::trace::{Happening, Tracer};

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

/// A failed TLS handshake in the trace, as this side (CallManager's port, Expressway-C) saw it.
pub fn handshake_failed(tracer: &Tracer, peer: Option<&str>, port: u16, failure: &TlsFailure) {
    let (alert, sent, detail) = match failure {
        TlsFailure::Alert { alert, sent, detail } => (alert.clone(), *sent, detail.clone()),
        other => ("none".to_string(), false, other.to_string()),
    };
    tracer.emit(Happening::TlsHandshakeFailed { peer: peer.map(str::to_string), port, alert, sent, detail });
}

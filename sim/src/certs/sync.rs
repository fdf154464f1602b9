//! Certificates over the network: trust synchronisation with the IM and Presence publisher,
//! DRF's IPSec check, and what a service presents to a client.
//!
//! Assumption (the documents give the order, publisher first and then each subscriber, but
//! not the mechanism behind it): the IM and Presence publisher holds the IM and Presence
//! nodes' trust. A subscriber's regeneration uploads its new certificate to the publisher and
//! downloads the publisher's certificates of that kind into its own trust store; the
//! publisher's own regeneration reaches no subscriber until that subscriber regenerates. In
//! the documented order every subscriber ends up trusting the publisher's new certificate.
//!
//! `ipsec.pem` is the exception the Korean document spells out: every node's IPSec-trust must
//! hold the *CallManager* publisher's, and a subscriber's own is in nobody's. So a node
//! regenerating its `ipsec.pem` uploads nothing and takes the CallManager publisher's
//! (`node::ipsec_trust`), where DRF Primary runs and [`CERTS_PATH`] answers `ipsec`.
//!
//! IM and Presence services show the certificate they present through a small HTTP answer
//! ([`PRESENTED_PATH`], [`DRF_PATH`]) in place of a handshake; the peer checks it against its
//! trust store exactly as a TLS client would check a self-signed certificate: the same
//! certificate, byte for byte. (SIP OAuth and the edge make real handshakes, `proto::tls`;
//! moving these onto it is left for later.)

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::certs::certificate::Certificate;
use crate::certs::identity::Identity;

/// On the IM and Presence publisher's Tomcat (8443): `GET CERTS_PATH/<name>` answers its
/// certificates of that kind (its own and its trust store's); `POST` uploads a subscriber's
/// new certificate into the publisher's trust store. On the CallManager publisher, `GET
/// CERTS_PATH/ipsec` answers its `ipsec.pem`. The path is ours (assumption).
pub const CERTS_PATH: &str = "/platformcom/certificates";
/// DRF Primary's port on the CallManager publisher (Cisco's DRF Master Agent port).
pub const DRF_PORT: u16 = 4040;
/// Where DRF Local opens its session with DRF Primary, which answers with the `ipsec.pem`
/// it presents.
pub const DRF_PATH: &str = "/drf/session";
/// Where a client sees the certificate XCP Router presents on the BOSH port (`cup-xmpp.pem`).
pub const PRESENTED_PATH: &str = "/httpbinding/certificate";

/// A certificate as it crosses the network: DER, base64.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct WireCertificate {
    pub identity: String,
    pub der: String,
}

impl WireCertificate {
    pub fn of(certificate: &Certificate) -> WireCertificate {
        WireCertificate {
            identity: certificate.identity.name().to_string(),
            der: STANDARD.encode(certificate.der()),
        }
    }

    /// The certificate, read from its DER; any fault is a reason, never a panic.
    pub fn certificate(&self) -> Result<Certificate, String> {
        let identity = Identity::from_name(&self.identity)
            .ok_or_else(|| format!("{:?} is not an identity certificate", self.identity))?;
        let der = STANDARD.decode(&self.der).map_err(|e| format!("certificate is not base64: {e}"))?;
        Certificate::from_der(identity, &der)
    }
}

/// The publisher's answer to `GET CERTS_PATH`, and a subscriber's upload.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct CertificateSet {
    pub certificates: Vec<WireCertificate>,
}

impl CertificateSet {
    pub fn of<'a>(certificates: impl IntoIterator<Item = &'a Certificate>) -> CertificateSet {
        CertificateSet { certificates: certificates.into_iter().map(WireCertificate::of).collect() }
    }

    /// Every certificate, of `identity` only; the first one that cannot be read is the error.
    pub fn read(&self, identity: Identity) -> Result<Vec<Certificate>, String> {
        let mut out = Vec::with_capacity(self.certificates.len());
        for wire in &self.certificates {
            let certificate = wire.certificate()?;
            if certificate.identity != identity {
                return Err(format!("asked for {identity} certificates, got {}", certificate.identity));
            }
            out.push(certificate);
        }
        Ok(out)
    }
}

/// Most certificates one answer may carry (one per node of the largest IM and Presence
/// cluster, and then some).
pub const CERTIFICATE_SET_MAX: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::certificate::{Draw, IDENTITY_VALIDITY};

    #[test]
    fn a_set_round_trips_and_a_wrong_kind_or_bad_bytes_is_a_reason() {
        let draw = Draw { serial: [7; 8], key_seed: [8; 32] };
        let cert =
            Certificate::issue(Identity::Ipsec, "imp-pub", &draw, 1_767_571_200, IDENTITY_VALIDITY).unwrap();
        let set = CertificateSet::of([&cert]);
        let json = serde_json::to_string(&set).unwrap();
        let back: CertificateSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back.read(Identity::Ipsec).unwrap(), vec![cert]);
        assert!(back.read(Identity::Tomcat).unwrap_err().contains("asked for tomcat"));
        let bad = CertificateSet {
            certificates: vec![WireCertificate { identity: "ipsec".into(), der: "!!".into() }],
        };
        assert!(bad.read(Identity::Ipsec).unwrap_err().contains("base64"));
        let junk = CertificateSet {
            certificates: vec![WireCertificate { identity: "ipsec".into(), der: STANDARD.encode(b"x") }],
        };
        assert!(junk.read(Identity::Ipsec).unwrap_err().contains("X.509"));
    }
}

//! An identity certificate as a real X.509 certificate (rcgen): self-signed, with the node's
//! host name as subject and SAN, a serial number and a validity period; or signed by a CA
//! ([`crate::certs::authority`]), which then travels with it as its trust anchor.
//!
//! Assumption (the documents do not say which key type the IM and Presence identity
//! certificates use): Ed25519 keys derived from the scenario seed. Ed25519 signing is
//! deterministic, so the same seed makes the same certificate, byte for byte, and the trace
//! may carry its serial and fingerprint. Nothing in the documented procedures depends on the
//! key type. (The AuthZ signing key, an RSA 2048 `authz` certificate, is elsewhere.)

use std::sync::Arc;
use std::time::Duration;

use rcgen::{CertificateParams, DnType, KeyPair, SerialNumber, PKCS_ED25519};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::certs::identity::Identity;

/// Assumption (the documents give no figure): how long a regenerated self-signed identity
/// certificate is valid.
pub const IDENTITY_VALIDITY: Duration = Duration::from_secs(5 * 365 * 86_400);

/// PKCS#8 v1 header of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// One certificate: issued here (with its private key, which TLS signs with) or received
/// over the network (without). Two certificates are the same when their DER is.
#[derive(Clone, Debug)]
pub struct Certificate {
    pub identity: Identity,
    /// The node it identifies (subject CN and SAN).
    pub host: String,
    /// The serial number, upper-case hex, as Certificate Management shows it.
    pub serial: String,
    /// End of validity, UNIX seconds.
    pub not_after_s: u64,
    /// SHA-256 of the DER encoding, hex: what a trust store compares.
    pub fingerprint: String,
    der: Arc<[u8]>,
    key: Option<PrivateKey>,
    /// The CA that signed it; `None` for a self-signed certificate.
    signer: Option<Arc<Certificate>>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Certificate) -> bool {
        self.identity == other.identity && self.der == other.der
    }
}

impl Eq for Certificate {}

/// A private key in PKCS#8 DER. It never reaches a trace or a log: its `Debug` prints no bytes.
#[derive(Clone)]
pub struct PrivateKey(Arc<[u8]>);

impl PrivateKey {
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

/// What issuing takes from the scenario's randomness: a serial and a key seed.
pub struct Draw {
    pub serial: [u8; 8],
    pub key_seed: [u8; 32],
}

impl Draw {
    /// The next serial and key seed of a seeded stream.
    pub fn from_stream(stream: &mut impl rand_core::RngCore) -> Draw {
        let mut draw = Draw { serial: [0; 8], key_seed: [0; 32] };
        stream.fill_bytes(&mut draw.serial);
        stream.fill_bytes(&mut draw.key_seed);
        draw
    }
}

impl Certificate {
    /// A self-signed certificate for `identity` on `host`, valid from `not_before_s` (UNIX
    /// seconds) for `validity`.
    pub fn issue(
        identity: Identity,
        host: &str,
        draw: &Draw,
        not_before_s: u64,
        validity: Duration,
    ) -> Result<Certificate, String> {
        Certificate::issue_with(identity, host, &[], draw, (not_before_s, validity), |params, key| {
            params.self_signed(key)
        })
    }

    /// A certificate for `host` (and the further DNS names `sans`) signed by a certificate
    /// authority: `issuer` is the authority's own certificate and `issuer_key` its key.
    pub fn issue_signed(
        identity: Identity,
        host: &str,
        sans: &[String],
        draw: &Draw,
        (not_before_s, validity): (u64, Duration),
        (issuer, issuer_key): (&rcgen::Certificate, &KeyPair),
    ) -> Result<Certificate, String> {
        Certificate::issue_with(identity, host, sans, draw, (not_before_s, validity), |params, key| {
            params.signed_by(key, issuer, issuer_key)
        })
    }

    /// The key from the draw, the parameters, then `sign` (self-signed or by an issuer).
    fn issue_with(
        identity: Identity,
        host: &str,
        sans: &[String],
        draw: &Draw,
        (not_before_s, validity): (u64, Duration),
        sign: impl FnOnce(CertificateParams, &KeyPair) -> Result<rcgen::Certificate, rcgen::Error>,
    ) -> Result<Certificate, String> {
        let (key, pkcs8) = key_pair(identity, &draw.key_seed)?;
        let (params, serial, not_after_s) = params(identity, host, sans, draw, not_before_s, validity)?;
        let certificate = sign(params, &key)
            .map_err(|e| format!("cannot sign the {identity} certificate of {host}: {e}"))?;
        Ok(Certificate::assemble(identity, host, serial, not_after_s, certificate.der(), pkcs8))
    }

    fn assemble(
        identity: Identity,
        host: &str,
        serial: [u8; 8],
        not_after_s: u64,
        der: &[u8],
        key: PrivateKey,
    ) -> Certificate {
        Certificate {
            identity,
            host: host.to_string(),
            serial: hex::encode_upper(serial),
            not_after_s,
            fingerprint: hex::encode(Sha256::digest(der)),
            der: der.into(),
            key: Some(key),
            signer: None,
        }
    }

    /// A certificate received over the network, read with OpenSSL: its subject CN is the
    /// host, its serial and end of validity are what the DER says.
    pub fn from_der(identity: Identity, der: &[u8]) -> Result<Certificate, String> {
        let x509 =
            openssl::x509::X509::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let host = x509
            .subject_name()
            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
            .next()
            .and_then(|cn| cn.data().to_string().ok())
            .ok_or("the certificate has no readable subject CN")?;
        let serial = x509
            .serial_number()
            .to_bn()
            .and_then(|serial| serial.to_hex_str().map(|hex| hex.to_string()))
            .map_err(|e| format!("unreadable serial number: {e}"))?;
        let epoch = openssl::asn1::Asn1Time::from_unix(0).map_err(|e| e.to_string())?;
        let until = epoch.diff(x509.not_after()).map_err(|e| format!("unreadable validity: {e}"))?;
        let not_after_s = u64::try_from(i64::from(until.days) * 86_400 + i64::from(until.secs))
            .map_err(|_| "validity ends before 1970".to_string())?;
        Ok(Certificate {
            identity,
            host,
            serial,
            not_after_s,
            fingerprint: hex::encode(Sha256::digest(der)),
            der: der.into(),
            key: None,
            signer: None,
        })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The same certificate with its private key (the issuer keeps it).
    pub fn with_key(mut self, key: PrivateKey) -> Certificate {
        self.key = Some(key);
        self
    }

    /// The same certificate, known to be signed by the CA `signer`.
    pub fn with_signer(mut self, signer: Certificate) -> Certificate {
        self.signer = Some(Arc::new(signer));
        self
    }

    /// The CA that signed it, if a CA did.
    pub fn signer(&self) -> Option<&Certificate> {
        self.signer.as_deref()
    }

    /// What a trust store must hold for this certificate to verify: its CA's certificate when
    /// a CA signed it (a chain ends at its issuer, never at a CA-signed leaf), else itself.
    pub fn anchor(&self) -> &Certificate {
        self.signer().unwrap_or(self)
    }

    /// The private key, on the node that issued the certificate.
    pub fn private_key(&self) -> Option<&PrivateKey> {
        self.key.as_ref()
    }

    /// Whether it has expired at `now_s`.
    pub fn expired(&self, now_s: u64) -> bool {
        now_s >= self.not_after_s
    }

    /// The first 16 hex digits of the fingerprint, as the trace shows it.
    pub fn short_fingerprint(&self) -> String {
        self.fingerprint[..16].to_string()
    }
}

/// The parameters of a certificate for `host` and `sans`: CN and first SAN the host, OU the
/// identity, a 16-hex serial, the validity. Also returns the serial and end of validity.
pub fn params(
    identity: Identity,
    host: &str,
    sans: &[String],
    draw: &Draw,
    not_before_s: u64,
    validity: Duration,
) -> Result<(CertificateParams, [u8; 8], u64), String> {
    let serial = positive_serial(draw.serial);
    let not_after_s = not_before_s.saturating_add(validity.as_secs());
    let time = |s: u64| validity_time(identity, s);
    let names: Vec<String> = std::iter::once(host.to_string()).chain(sans.iter().cloned()).collect();
    let mut params =
        CertificateParams::new(names).map_err(|e| format!("{host:?} is not a certificate name: {e}"))?;
    params.distinguished_name.push(DnType::CommonName, host);
    params.distinguished_name.push(DnType::OrganizationalUnitName, identity.name());
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = time(not_before_s)?;
    params.not_after = time(not_after_s)?;
    Ok((params, serial, not_after_s))
}

/// A positive serial with its top byte set, so that it always prints as 16 hex digits.
pub fn positive_serial(mut serial: [u8; 8]) -> [u8; 8] {
    serial[0] = (serial[0] & 0x7f) | 0x40;
    serial
}

/// UNIX seconds as a certificate's validity bound.
pub fn validity_time(identity: Identity, s: u64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp(i64::try_from(s).unwrap_or(i64::MAX))
        .map_err(|e| format!("{identity} validity out of range: {e}"))
}

/// An Ed25519 key pair from a 32-byte seed, for rcgen and as PKCS#8 for TLS.
pub fn key_pair(identity: impl std::fmt::Display, seed: &[u8; 32]) -> Result<(KeyPair, PrivateKey), String> {
    let mut pkcs8 = ED25519_PKCS8_PREFIX.to_vec();
    pkcs8.extend_from_slice(seed);
    let key = KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_slice().into(), &PKCS_ED25519)
        .map_err(|e| format!("cannot make the {identity} key: {e}"))?;
    Ok((key, PrivateKey(pkcs8.into())))
}

#[cfg(test)]
mod tests {
    use openssl::nid::Nid;
    use openssl::x509::X509;

    use super::*;

    fn draw(n: u8) -> Draw {
        Draw { serial: [n; 8], key_seed: [n.wrapping_add(1); 32] }
    }

    /// OpenSSL, an independent X.509 implementation, reads what rcgen made: subject, SAN,
    /// serial, validity, and a self-signature that verifies with the certificate's own key.
    #[test]
    fn openssl_reads_and_verifies_the_certificate() {
        let cert =
            Certificate::issue(Identity::Ipsec, "imp-pub", &draw(0x9a), 1_767_571_200, IDENTITY_VALIDITY)
                .unwrap();
        let x509 = X509::from_der(cert.der()).unwrap();
        let cn = x509.subject_name().entries_by_nid(Nid::COMMONNAME).next().unwrap();
        assert_eq!(cn.data().to_string().unwrap(), "imp-pub");
        let san = x509.subject_alt_names().unwrap();
        assert_eq!(san.iter().next().unwrap().dnsname(), Some("imp-pub"));
        let serial = x509.serial_number().to_bn().unwrap().to_hex_str().unwrap().to_string();
        assert_eq!(serial, cert.serial);
        assert_eq!(cert.serial, "5A9A9A9A9A9A9A9A", "positive, top bit cleared, 16 digits");
        assert!(x509.verify(&x509.public_key().unwrap()).unwrap(), "self-signed");
        let after =
            openssl::asn1::Asn1Time::from_unix(1_767_571_200 + IDENTITY_VALIDITY.as_secs() as i64).unwrap();
        assert_eq!(x509.not_after().compare(&after).unwrap(), std::cmp::Ordering::Equal);
        assert!(!cert.expired(1_767_571_200) && cert.expired(cert.not_after_s));
        assert_eq!(Certificate::from_der(Identity::Ipsec, cert.der()).unwrap(), cert, "read back whole");
        assert!(Certificate::from_der(Identity::Ipsec, b"not der").unwrap_err().contains("not an X.509"));
    }

    #[test]
    fn the_same_draw_makes_the_same_bytes_and_another_draw_another_certificate() {
        let at = 1_767_571_200;
        let a = Certificate::issue(Identity::Tomcat, "imp-sub-1", &draw(1), at, IDENTITY_VALIDITY).unwrap();
        let again =
            Certificate::issue(Identity::Tomcat, "imp-sub-1", &draw(1), at, IDENTITY_VALIDITY).unwrap();
        let other =
            Certificate::issue(Identity::Tomcat, "imp-sub-1", &draw(2), at, IDENTITY_VALIDITY).unwrap();
        assert_eq!(a, again);
        assert_ne!(a.fingerprint, other.fingerprint);
        assert_ne!(a.serial, other.serial);
        assert_eq!(a.fingerprint.len(), 64);
    }
}

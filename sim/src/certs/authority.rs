//! A certificate authority outside the cluster (an enterprise or public CA). It signs the
//! Expressway's certificates and, when the administrator submits one, the multi-SAN Tomcat
//! signing request of the CallManager publisher. The documents: put the Expressway-C
//! certificate's signer into Tomcat-trust "when the two are signed by different CAs or
//! Tomcat is self-signed", which is the case here until the Tomcat certificate is CA-signed
//! (`install-ca-signed-tomcat` also puts this CA into every Tomcat-trust).

use std::time::Duration;

use rcgen::{BasicConstraints, CertificateSigningRequestParams, IsCa, KeyPair, SerialNumber};

use crate::certs::certificate::{self, Certificate, Draw, PrivateKey};
use crate::certs::identity::Identity;
use crate::certs::signing_request::SigningRequest;

/// Assumption (the documents give no figure): how long the CA's own certificate is valid.
pub const AUTHORITY_VALIDITY: Duration = Duration::from_secs(10 * 365 * 86_400);

/// The name of the CA outside the cluster that signs Expressway-C's certificates (its
/// certificate is `tomcat-trust/Enterprise Root CA.pem` in a Tomcat-trust).
pub const EDGE_CA_NAME: &str = "Enterprise Root CA";

/// A CA: its self-signed certificate (what a trust store takes) and its key.
pub struct Authority {
    /// The CA certificate as trust stores hold it (in Tomcat-trust: filed as a web certificate).
    pub certificate: Certificate,
    issuer: rcgen::Certificate,
    key: KeyPair,
}

impl Authority {
    /// A CA named `name`, valid from `not_before_s`.
    pub fn new(name: &str, draw: &Draw, not_before_s: u64) -> Result<Authority, String> {
        let (key, pkcs8) = certificate::key_pair(name, &draw.key_seed)?;
        let (mut params, _, _) =
            certificate::params(Identity::Tomcat, name, &[], draw, not_before_s, AUTHORITY_VALIDITY)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = params.self_signed(&key).map_err(|e| format!("cannot make the CA {name}: {e}"))?;
        let certificate = Certificate::from_der(Identity::Tomcat, issuer.der())?.with_key(pkcs8);
        Ok(Authority { certificate, issuer, key })
    }

    /// The CA's name (its certificate's CN).
    pub fn name(&self) -> &str {
        &self.certificate.host
    }

    /// A web (server and client) certificate for `host` with the further names `sans`.
    pub fn issue(
        &self,
        host: &str,
        sans: &[String],
        draw: &Draw,
        not_before_s: u64,
        validity: Duration,
    ) -> Result<Certificate, String> {
        Certificate::issue_signed(
            Identity::Tomcat,
            host,
            sans,
            draw,
            (not_before_s, validity),
            (&self.issuer, &self.key),
        )
        .map(|issued| issued.with_signer(self.certificate.clone()))
    }

    /// Signs `request` as a CA does: it checks the request's own signature (a request
    /// altered on the way is refused), keeps the subject and names asked for, and sets the
    /// serial (from `serial`) and the validity. `key` is the requester's, kept with the
    /// result for the node that made the request.
    pub fn sign(
        &self,
        request: &SigningRequest,
        key: PrivateKey,
        serial: [u8; 8],
        not_before_s: u64,
        validity: Duration,
    ) -> Result<Certificate, String> {
        let identity = request.identity();
        let mut csr = CertificateSigningRequestParams::from_der(&request.der().to_vec().into())
            .map_err(|e| format!("{} refuses the {identity} signing request: {e}", self.name()))?;
        csr.params.serial_number = Some(SerialNumber::from_slice(&certificate::positive_serial(serial)));
        csr.params.not_before = certificate::validity_time(identity, not_before_s)?;
        csr.params.not_after =
            certificate::validity_time(identity, not_before_s.saturating_add(validity.as_secs()))?;
        let signed = csr
            .signed_by(&self.issuer, &self.key)
            .map_err(|e| format!("{} cannot sign the {identity} request: {e}", self.name()))?;
        Ok(Certificate::from_der(identity, signed.der())?.with_key(key).with_signer(self.certificate.clone()))
    }
}

#[cfg(test)]
mod tests {
    use openssl::x509::X509;

    use super::*;
    use crate::certs::certificate::IDENTITY_VALIDITY;

    const AT: u64 = 1_767_571_200;

    fn draw(n: u8) -> Draw {
        Draw { serial: [n; 8], key_seed: [n.wrapping_add(1); 32] }
    }

    fn dns_names(der: &[u8]) -> Vec<String> {
        let x509 = X509::from_der(der).unwrap();
        x509.subject_alt_names()
            .unwrap()
            .iter()
            .filter_map(|name| name.dnsname().map(str::to_string))
            .collect()
    }

    /// The CA signs what the request asks for (CN and every SAN), with its own serial and
    /// validity; OpenSSL verifies the result against the CA's key, not its own.
    #[test]
    fn the_ca_signs_the_multi_san_request_it_was_given() {
        let ca = Authority::new("Enterprise Root CA", &draw(1), AT - 86_400).unwrap();
        let sans = vec!["cucm-sub-1".to_string(), "imp-pub".to_string()];
        let (request, key) = SigningRequest::new(Identity::Tomcat, "cucm-pub", &sans, &draw(2)).unwrap();
        assert_eq!(request.names(), ["cucm-pub", "cucm-sub-1", "imp-pub"]);
        let signed = ca.sign(&request, key.clone(), [3; 8], AT, IDENTITY_VALIDITY).unwrap();
        assert_eq!(dns_names(signed.der()), ["cucm-pub", "cucm-sub-1", "imp-pub"]);
        assert_eq!((signed.host.as_str(), signed.serial.as_str()), ("cucm-pub", "4303030303030303"));
        let x509 = X509::from_der(signed.der()).unwrap();
        let ca_key = X509::from_der(ca.certificate.der()).unwrap().public_key().unwrap();
        assert!(x509.verify(&ca_key).unwrap(), "signed by the CA");
        assert!(!x509.verify(&x509.public_key().unwrap()).unwrap(), "not self-signed");
        assert_eq!(signed.anchor(), &ca.certificate);
        assert_eq!(signed.private_key().map(PrivateKey::pkcs8_der), Some(key.pkcs8_der()));
        assert!(!signed.expired(AT) && signed.expired(AT + IDENTITY_VALIDITY.as_secs()));
    }

    /// A request altered on the way (a SAN changed after it was signed) is refused: the CA
    /// checks the request's own signature.
    #[test]
    fn the_ca_refuses_a_request_altered_on_the_way() {
        let ca = Authority::new("Enterprise Root CA", &draw(1), AT - 86_400).unwrap();
        let sans = vec!["cucm-sub-1".to_string()];
        let (mut request, key) = SigningRequest::new(Identity::Tomcat, "cucm-pub", &sans, &draw(2)).unwrap();
        let der = request.der_mut();
        let at = der.windows(10).position(|window| window == b"cucm-sub-1").unwrap();
        der[at + 9] = b'9';
        let refused = ca.sign(&request, key, [3; 8], AT, IDENTITY_VALIDITY).unwrap_err();
        assert!(refused.contains("Enterprise Root CA refuses the tomcat signing request"), "{refused}");
    }
}

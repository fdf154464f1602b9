//! A certificate authority outside the cluster (an enterprise or public CA) that signs the
//! Expressway's certificates. The documents: put the Expressway-C certificate's signer into
//! Tomcat-trust "when the two are signed by different CAs or Tomcat is self-signed", which
//! is the case here (CallManager's Tomcat is self-signed).

use std::time::Duration;

use rcgen::{BasicConstraints, IsCa, KeyPair};

use crate::certs::certificate::{self, Certificate, Draw};
use crate::certs::identity::Identity;

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
    }
}

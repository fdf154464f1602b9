//! A certificate signing request (PKCS#10), as Certificate Management's "Generate CSR" makes
//! it: the key stays on the node, the request carries the subject, the names and the public
//! key, signed with that key so that the CA can check it was not altered on the way.
//!
//! The certificate document: the multi-SAN Tomcat CSR is generated on the CallManager
//! publisher and the CA-signed certificate is used by every CallManager and IM and Presence
//! node of the cluster (docs/domain.md "CA-signed Tomcat certificates").

use crate::certs::certificate::{self, Draw, PrivateKey, IDENTITY_VALIDITY};
use crate::certs::identity::Identity;

/// A signing request for one identity certificate.
pub struct SigningRequest {
    identity: Identity,
    der: Vec<u8>,
    /// The subject's host (CN) first, then the further names (SANs) it asks for.
    names: Vec<String>,
}

impl SigningRequest {
    /// A request for `identity` with CN `host` and the further DNS names `sans`, with a new
    /// key drawn from `draw` (its serial is the CA's to choose). Returns the request and the
    /// key the node keeps.
    pub fn new(
        identity: Identity,
        host: &str,
        sans: &[String],
        draw: &Draw,
    ) -> Result<(SigningRequest, PrivateKey), String> {
        let (key, pkcs8) = certificate::key_pair(identity, &draw.key_seed)?;
        // The validity in the parameters is not part of a request; the CA sets its own.
        let (mut params, _, _) = certificate::params(identity, host, sans, draw, 0, IDENTITY_VALIDITY)?;
        params.serial_number = None;
        let request = params
            .serialize_request(&key)
            .map_err(|e| format!("cannot make the {identity} signing request of {host}: {e}"))?;
        let names = std::iter::once(host.to_string()).chain(sans.iter().cloned()).collect();
        Ok((SigningRequest { identity, der: request.der().to_vec(), names }, pkcs8))
    }

    pub fn identity(&self) -> Identity {
        self.identity
    }

    /// The request as the CA receives it (DER).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The request's bytes, to alter one on the way in a test.
    #[cfg(test)]
    pub(crate) fn der_mut(&mut self) -> &mut Vec<u8> {
        &mut self.der
    }

    /// CN first, then the SANs.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

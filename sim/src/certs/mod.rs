//! Node certificates (docs/domain.md "IM and Presence certificates"): the five identity
//! certificates of every IM and Presence node and the `tomcat.pem` and `ipsec.pem` of every
//! CallManager node as real X.509 certificates, trust stores, which services present which
//! certificate, and the trust synchronisation that makes the documented regeneration order
//! matter.
//!
//! * [`identity`]: the five identity certificates and the services each one needs restarted.
//! * [`service`]: the services a scenario restarts, stops or starts, and what each loads.
//! * [`authority`]: a CA outside the cluster, which signs the Expressway's certificates.
//! * [`certificate`]: one certificate, made by rcgen, deterministic from the seed.
//! * [`signing_request`]: a certificate signing request (the multi-SAN Tomcat CSR).
//! * [`store`]: one node's certificates, trust stores and loaded certificates.
//! * [`device_trust`]: what the Jabber devices trust (pushed by the administrator).
//! * [`install`]: the nodes' certificates and trust as the run finds them (every node's
//!   IPSec-trust holds the CallManager publisher's `ipsec.pem`).
//! * [`phone_edge_trust`]: the roots phones check Tomcat against when they get tokens.
//! * [`sync`]: certificates over the network: trust sync with the publisher, DRF's check.

pub mod authority;
pub mod certificate;
pub mod device_trust;
pub mod identity;
pub mod install;
pub mod phone_edge_trust;
pub mod service;
pub mod signing_request;
pub mod store;
pub mod sync;

pub use certificate::Certificate;
pub use device_trust::DeviceTrust;
pub use identity::Identity;
pub use phone_edge_trust::PhoneEdgeTrust;
pub use service::Service;
pub use store::{CertStore, CertificateName, Refused};

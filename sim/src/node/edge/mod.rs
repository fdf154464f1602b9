//! The Mobile and Remote Access edge: Expressway-E in the DMZ hands every remote request to
//! Expressway-C, which checks tokens and carries SIP registrations into the cluster.

pub mod expressway_c;
pub mod expressway_e;

//! DNS domains: the cluster's own, and the domain of a name in a certificate.
//!
//! The SIP OAuth guide (002, "Expressway-C에 대한 OAuth 연결 구성") says that when
//! Expressway-C is in another domain than Unified CM, the administrator must add that domain
//! to Expressway-C in the Unified CM configuration. It does not say what fails without it.
//! Ours (assumption): on the MRA port CallManager accepts a peer's name from
//! `expresswaycconfiguration` only in its own domain ([`CLUSTER_DOMAIN`]) or in the domain the
//! name's entry holds (Device > Expressway-C, `domain`); a name in another domain is refused
//! until the domain is added to its entry.

/// The cluster's DNS domain: every CallManager node's and, by default, Expressway-C's. The
/// documents name no domain; ours (assumption) is `example.com`, the name reserved for
/// examples.
pub const CLUSTER_DOMAIN: &str = "example.com";

/// The domain of a DNS name: what follows its first dot. A bare host name has none; Unified
/// CM takes it to be in its own domain.
pub fn domain_of(name: &str) -> Option<&str> {
    name.split_once('.').map(|(_, domain)| domain)
}

/// Whether `domain` is the cluster's.
pub fn is_cluster_domain(domain: &str) -> bool {
    domain.eq_ignore_ascii_case(CLUSTER_DOMAIN)
}

/// Whether `name` is in the cluster's domain (a bare host name is).
pub fn in_cluster_domain(name: &str) -> bool {
    domain_of(name).is_none_or(is_cluster_domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_in_the_domain_after_its_first_dot() {
        assert_eq!(domain_of("expressway-c.edge.example.net"), Some("edge.example.net"));
        assert_eq!(domain_of("expressway-c"), None);
        assert!(in_cluster_domain("expressway-c.example.com"));
        assert!(in_cluster_domain("EXPC.Example.COM"));
        assert!(in_cluster_domain("expressway-c"));
        assert!(!in_cluster_domain("expressway-c.edge.example.com"));
        assert!(!in_cluster_domain("expc2.example.org"));
    }
}

//! The IM and Presence nodes' certificates as the run finds them: issued when each node was
//! installed, and every node's trust stores holding every node's identity certificates
//! (the cluster's trust was in sync before the run).

use crate::certs::store::{CertStore, RETIRED_HOST};
use crate::seeds::Seeds;

/// One store per node of `nodes`, in order; with `expired_trust`, every trust store also
/// holds the expired certificates of a node removed long ago.
pub fn install(
    nodes: &[String],
    seeds: &Seeds,
    now_s: u64,
    expired_trust: bool,
) -> Result<Vec<CertStore>, String> {
    let mut stores = nodes
        .iter()
        .map(|name| CertStore::new(name, seeds.rng(&format!("certs:{name}")), now_s))
        .collect::<Result<Vec<_>, String>>()?;
    let mut trusted = Vec::new();
    for store in &stores {
        trusted.extend(crate::certs::Identity::ALL.map(|identity| store.identity(identity).clone()));
    }
    if expired_trust {
        trusted.extend(CertStore::retired_node(RETIRED_HOST, seeds.rng("certs:retired"), now_s)?);
    }
    for store in &mut stores {
        for certificate in &trusted {
            store.trust_certificate(certificate.clone());
        }
    }
    Ok(stores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::Identity;

    #[test]
    fn every_node_trusts_every_node_and_the_retired_one_only_when_asked() {
        let nodes = vec!["imp-pub".to_string(), "imp-sub-1".to_string()];
        let stores = install(&nodes, &Seeds::new(3), 1_767_571_200, true).unwrap();
        for store in &stores {
            for other in &stores {
                assert_eq!(
                    store.trusted(Identity::Ipsec, other.host()),
                    Some(other.identity(Identity::Ipsec))
                );
            }
            assert!(store.trusted(Identity::Tomcat, RETIRED_HOST).is_some());
        }
        let stores = install(&nodes, &Seeds::new(3), 1_767_571_200, false).unwrap();
        assert!(stores[0].trusted(Identity::Tomcat, RETIRED_HOST).is_none());
    }
}

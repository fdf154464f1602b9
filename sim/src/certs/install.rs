//! The IM and Presence nodes' certificates as the run finds them: issued when each node was
//! installed, and every node's trust stores holding every node's identity certificates
//! (the cluster's trust was in sync before the run), but for IPSec-trust, which holds the
//! publisher's `ipsec.pem` only: a subscriber's is not in the publisher's IPSec-trust in a
//! standard deployment (the Korean document).

use crate::certs::store::{CertStore, RETIRED_HOST};
use crate::certs::Identity;
use crate::node_id::NodeId;
use crate::seeds::Seeds;

/// One store per node of `nodes`, in order, the publisher first; with `expired_trust`, every trust store also
/// holds the expired certificates of a node removed long ago.
pub fn install(
    nodes: &[NodeId],
    seeds: &Seeds,
    now_s: u64,
    expired_trust: bool,
) -> Result<Vec<CertStore>, String> {
    let mut stores = nodes
        .iter()
        .map(|name| CertStore::new(name.as_str(), seeds.rng(&format!("certs:{name}")), now_s))
        .collect::<Result<Vec<_>, String>>()?;
    let mut trusted = Vec::new();
    for (index, store) in stores.iter().enumerate() {
        let publisher = index == 0;
        trusted.extend(
            Identity::ALL
                .into_iter()
                .filter(|identity| publisher || *identity != Identity::Ipsec)
                .map(|identity| store.identity(identity).clone()),
        );
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

    #[test]
    fn every_node_trusts_every_node_but_ipsec_only_the_publisher_and_the_retired_one_when_asked() {
        let nodes = vec![NodeId::IMP_PUBLISHER, NodeId::imp_subscriber(1)];
        let stores = install(&nodes, &Seeds::new(3), 1_767_571_200, true).unwrap();
        for store in &stores {
            for other in &stores {
                assert_eq!(
                    store.trusted(Identity::Tomcat, other.host()),
                    Some(other.identity(Identity::Tomcat))
                );
            }
            assert_eq!(store.trusted(Identity::Ipsec, "imp-pub"), Some(stores[0].identity(Identity::Ipsec)));
            assert!(store.trusted(Identity::Tomcat, RETIRED_HOST).is_some());
        }
        assert!(stores[0].trusted(Identity::Ipsec, "imp-sub-1").is_none(), "a subscriber's ipsec.pem is not");
        let stores = install(&nodes, &Seeds::new(3), 1_767_571_200, false).unwrap();
        assert!(stores[0].trusted(Identity::Tomcat, RETIRED_HOST).is_none());
    }
}

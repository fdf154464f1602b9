//! The nodes' certificates and trust as the run finds them: issued when each node was
//! installed, with the cluster's trust in sync before the run.
//!
//! IPSec-trust follows the Korean certificate document: the **CallManager** publisher's
//! `ipsec.pem` must be valid and in the IPSec-trust of every subscriber, CallManager and IM
//! and Presence alike, and a subscriber's own `ipsec.pem` is not in the publisher's
//! IPSec-trust in a standard deployment. So every node but the CallManager publisher trusts
//! the CallManager publisher's `ipsec.pem`, and no node trusts another's. The IM and Presence
//! nodes trust each other's other four certificates.

use crate::certs::store::{CertStore, RETIRED_HOST};
use crate::certs::{Certificate, Identity};
use crate::node_id::NodeId;
use crate::seeds::Seeds;

/// The CallManager nodes' stores: the publisher's, then one per subscriber of `subscribers`,
/// in order. Each subscriber's IPSec-trust holds the publisher's `ipsec.pem`. With
/// `expired_trust`, every trust store also holds the expired certificates of a node removed
/// long ago (the same ones as the IM and Presence nodes').
pub fn install_callmanager(
    subscribers: &[NodeId],
    seeds: &Seeds,
    now_s: u64,
    expired_trust: bool,
) -> Result<(CertStore, Vec<CertStore>), String> {
    let store =
        |name: &NodeId| CertStore::callmanager(name.as_str(), seeds.rng(&format!("certs:{name}")), now_s);
    let mut publisher = store(&NodeId::PUBLISHER)?;
    let mut stores = subscribers.iter().map(store).collect::<Result<Vec<_>, String>>()?;
    for subscriber in &mut stores {
        subscriber.trust_certificate(publisher.identity(Identity::Ipsec).clone());
    }
    if expired_trust {
        for certificate in retired(seeds, now_s)? {
            for store in std::iter::once(&mut publisher).chain(stores.iter_mut()) {
                store.trust_certificate(certificate.clone());
            }
        }
    }
    Ok((publisher, stores))
}

/// One store per IM and Presence node of `nodes`, in order, the IM and Presence publisher
/// first; each trusts `callmanager_ipsec` (the CallManager publisher's `ipsec.pem`). With
/// `expired_trust`, every trust store also holds the expired certificates of a node removed
/// long ago.
pub fn install(
    nodes: &[NodeId],
    callmanager_ipsec: &Certificate,
    seeds: &Seeds,
    now_s: u64,
    expired_trust: bool,
) -> Result<Vec<CertStore>, String> {
    let mut stores = nodes
        .iter()
        .map(|name| CertStore::new(name.as_str(), seeds.rng(&format!("certs:{name}")), now_s))
        .collect::<Result<Vec<_>, String>>()?;
    let mut trusted = vec![callmanager_ipsec.clone()];
    for store in &stores {
        trusted.extend(
            Identity::ALL
                .into_iter()
                .filter(|identity| *identity != Identity::Ipsec)
                .map(|identity| store.identity(identity).clone()),
        );
    }
    if expired_trust {
        trusted.extend(retired(seeds, now_s)?);
    }
    for store in &mut stores {
        for certificate in &trusted {
            store.trust_certificate(certificate.clone());
        }
    }
    Ok(stores)
}

/// The certificates of the node removed long ago: the same in every node's trust stores.
fn retired(seeds: &Seeds, now_s: u64) -> Result<Vec<Certificate>, String> {
    CertStore::retired_node(RETIRED_HOST, seeds.rng("certs:retired"), now_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: u64 = 1_767_571_200;

    /// The Korean document: the CallManager publisher's ipsec.pem is in the IPSec-trust of
    /// every subscriber, CallManager and IM and Presence alike; a subscriber's is in nobody's.
    #[test]
    fn every_subscriber_trusts_the_callmanager_publisher_s_ipsec_and_only_that() {
        let seeds = Seeds::new(3);
        let (publisher, callmanager) =
            install_callmanager(&[NodeId::cucm_subscriber(1)], &seeds, AT, false).unwrap();
        let imp_nodes = vec![NodeId::IMP_PUBLISHER, NodeId::imp_subscriber(1)];
        let imp = install(&imp_nodes, publisher.identity(Identity::Ipsec), &seeds, AT, true).unwrap();
        let source = publisher.identity(Identity::Ipsec);
        for store in callmanager.iter().chain(&imp) {
            assert_eq!(store.trusted(Identity::Ipsec, "cucm-pub"), Some(source), "{}", store.host());
            let others: Vec<&str> = store
                .trust_store(Identity::Ipsec)
                .map(|certificate| certificate.host.as_str())
                .filter(|host| *host != "cucm-pub" && *host != store.host() && *host != RETIRED_HOST)
                .collect();
            assert!(others.is_empty(), "{} trusts the ipsec.pem of {others:?}", store.host());
        }
        assert!(publisher.trusted(Identity::Ipsec, "cucm-sub-1").is_none(), "a subscriber's is not");
        for store in &imp {
            for other in &imp {
                assert_eq!(
                    store.trusted(Identity::Tomcat, other.host()),
                    Some(other.identity(Identity::Tomcat))
                );
            }
            assert!(store.trusted(Identity::Tomcat, RETIRED_HOST).is_some());
        }
        let imp = install(&imp_nodes, source, &seeds, AT, false).unwrap();
        assert!(imp[0].trusted(Identity::Tomcat, RETIRED_HOST).is_none());
    }
}

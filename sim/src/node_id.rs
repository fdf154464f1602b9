//! A host of the simulated cluster by its name: `cucm-pub`, `cucm-sub-1`, `imp-pub`, `unity`,
//! `jabber-2`. The name is what turmoil knows the host by, what the trace records as an
//! event's `node`, and what a node's clock is kept under; a type of its own keeps node names
//! apart from users, services and the other strings they travel with.
//!
//! The fixed nodes are constants here, so the spelling of each lives in one place; numbered
//! ones are made by [`NodeId::cucm_subscriber`] and [`NodeId::imp_subscriber`], and names a
//! scenario file gives (checked by its parser against the scenario's hosts) by
//! [`NodeId::new`].

use std::borrow::{Borrow, Cow};
use std::fmt;

/// A node (host or client device) by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(Cow<'static, str>);

impl NodeId {
    /// The CallManager publisher: the AuthZ token service's issuer and the key source.
    pub const PUBLISHER: NodeId = NodeId(Cow::Borrowed("cucm-pub"));
    /// The IM and Presence database publisher.
    pub const IMP_PUBLISHER: NodeId = NodeId(Cow::Borrowed("imp-pub"));
    /// Unity Connection.
    pub const UNITY: NodeId = NodeId(Cow::Borrowed("unity"));
    /// The SAML identity provider, when the cluster uses SSO.
    pub const IDP: NodeId = NodeId(Cow::Borrowed("idp"));
    /// Expressway-C, the edge's inside half: it checks tokens for the remote devices.
    pub const EXPRESSWAY_C: NodeId = NodeId(Cow::Borrowed("expressway-c"));
    /// Expressway-E, the edge's outside half, which the remote devices reach.
    pub const EXPRESSWAY_E: NodeId = NodeId(Cow::Borrowed("expressway-e"));
    /// Another cluster's TFTP server, the proxy TFTP of this cluster's phones on premises
    /// (`[cluster.sip] proxy_tftp`).
    pub const PROXY_TFTP: NodeId = NodeId(Cow::Borrowed("proxy-tftp"));
    /// The site host where remote devices run, outside, reaching the cluster through the edge.
    pub const REMOTE_SITE: NodeId = NodeId(Cow::Borrowed("site-remote"));
    /// The site host where the clients and the administrator's console run.
    pub const CAMPUS_SITE: NodeId = NodeId(Cow::Borrowed("site-campus"));
    /// The administrator's console on the campus site: its calls to the publisher's APIs are
    /// recorded as this node, and it is their HTTP agent.
    pub const ADMIN: NodeId = NodeId(Cow::Borrowed("admin"));
    /// The driver's own node in the trace: `step` events are recorded there.
    pub const SCENARIO: NodeId = NodeId(Cow::Borrowed("scenario"));

    /// A node by a name made at run time (a device, a site, a name from a scenario file).
    pub fn new(name: impl Into<String>) -> NodeId {
        NodeId(Cow::Owned(name.into()))
    }

    /// The `n`-th CallManager subscriber, from 1.
    pub fn cucm_subscriber(n: u32) -> NodeId {
        NodeId::new(format!("cucm-sub-{n}"))
    }

    /// The `n`-th IM and Presence subscriber, from 1.
    pub fn imp_subscriber(n: u32) -> NodeId {
        NodeId::new(format!("imp-sub-{n}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Maps keyed by node are looked up by a name read from a trace or a scenario.
impl Borrow<str> for NodeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for NodeId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for NodeId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for NodeId {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_str()
    }
}

impl PartialEq<NodeId> for String {
    fn eq(&self, other: &NodeId) -> bool {
        self.as_str() == other.as_str()
    }
}

/// A name written in a test or read from a scenario file's text, as a node.
impl From<&str> for NodeId {
    fn from(name: &str) -> NodeId {
        NodeId::new(name)
    }
}

impl From<NodeId> for String {
    fn from(node: NodeId) -> String {
        node.0.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_fixed_node_and_the_same_name_made_at_run_time_are_one_node() {
        assert_eq!(NodeId::PUBLISHER, NodeId::new("cucm-pub"));
        assert_eq!(NodeId::cucm_subscriber(2).as_str(), "cucm-sub-2");
        assert_eq!(NodeId::imp_subscriber(1).to_string(), "imp-sub-1");
        let mut skews = BTreeMap::new();
        skews.insert(NodeId::new("unity"), 5);
        assert_eq!(skews.get("unity"), Some(&5), "looked up by a name read from a trace");
        assert_eq!(skews.get(NodeId::UNITY.as_str()), Some(&5));
        assert!(NodeId::new("cucm-sub-1") < NodeId::new("cucm-sub-2"), "ordered by name");
    }
}

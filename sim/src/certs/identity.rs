//! The five identity certificates of an IM and Presence node, and what each one touches
//! (docs/domain.md "IM and Presence certificates").

use std::fmt;

/// One of the five identity certificates every IM and Presence node holds. None may be
/// deleted; each has a trust store of the same name with `-trust` appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Identity {
    /// `cup.pem`: SIP federation, the secure link to CallManager.
    Cup,
    /// `cup-xmpp.pem`: XMPP client sessions (what Jabber checks on IM logins).
    CupXmpp,
    /// `cup-xmpp-s2s.pem`: XMPP federation.
    CupXmppS2s,
    /// `ipsec.pem`: disaster recovery (DRF) and IPsec between nodes; the publisher's must be
    /// in every subscriber's IPSec-trust with a matching serial number.
    Ipsec,
    /// `tomcat.pem`: web access, Jabber, SSO, inter-cluster peers.
    Tomcat,
}

impl Identity {
    pub const ALL: [Identity; 5] =
        [Identity::Cup, Identity::CupXmpp, Identity::CupXmppS2s, Identity::Ipsec, Identity::Tomcat];

    /// The name scenarios and the trace use: `cup`, `cup-xmpp`, `cup-xmpp-s2s`, `ipsec`, `tomcat`.
    pub fn name(self) -> &'static str {
        match self {
            Identity::Cup => "cup",
            Identity::CupXmpp => "cup-xmpp",
            Identity::CupXmppS2s => "cup-xmpp-s2s",
            Identity::Ipsec => "ipsec",
            Identity::Tomcat => "tomcat",
        }
    }

    /// The certificate's file on the Certificate Management page, e.g. `ipsec.pem`.
    pub fn file(self) -> String {
        format!("{}.pem", self.name())
    }

    /// Its trust store, e.g. `ipsec-trust`.
    pub fn trust_store(self) -> String {
        format!("{}-trust", self.name())
    }

    /// By name (`cup-xmpp`) or file name (`cup-xmpp.pem`).
    pub fn from_name(name: &str) -> Option<Identity> {
        let name = name.strip_suffix(".pem").unwrap_or(name);
        Identity::ALL.into_iter().find(|identity| identity.name() == name)
    }

    /// By trust store name (`ipsec-trust`).
    pub fn from_trust_store(store: &str) -> Option<Identity> {
        Identity::ALL.into_iter().find(|identity| identity.trust_store() == store)
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_and_trust_stores_round_trip() {
        for identity in Identity::ALL {
            assert_eq!(Identity::from_name(identity.name()), Some(identity));
            assert_eq!(Identity::from_name(&identity.file()), Some(identity));
            assert_eq!(Identity::from_trust_store(&identity.trust_store()), Some(identity));
        }
        assert_eq!(Identity::CupXmppS2s.file(), "cup-xmpp-s2s.pem");
        assert_eq!(Identity::Ipsec.trust_store(), "ipsec-trust");
        assert_eq!(Identity::from_name("authz"), None);
    }
}
